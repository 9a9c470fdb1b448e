/**
 * Values copied from examples or left as reminders. A session secret that matches one is
 * refused at start-up, whatever its length (the spirit of brocoders' checkPlaceholderSecrets).
 */
const PLACEHOLDER =
  /change.?me|changeit|example|placeholder|your.?secret|replace.?me|dummy|^(.)\1+$|^(.{1,4})\2+$/i;

export function isPlaceholderSecret(value: string): boolean {
  return PLACEHOLDER.test(value);
}
