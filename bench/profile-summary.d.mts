// Types of profile-summary.mjs for its unit test (test/bench-profile-summary.spec.ts).
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalUs: number;
  byFunction: Map<string, number>;
  byPackage: Map<string, number>;
}

export function packageOf(callFrame: Pick<CallFrame, 'functionName' | 'url'>): string;
export function summarizeProfile(
  profile: CpuProfile,
  window?: { from?: number; to?: number },
): ProfileSummary;
export function describeProfile(
  name: string,
  summary: ProfileSummary,
  requests: number,
  top?: number,
): string[];
export function sideBySide(
  entries: { name: string; summary: ProfileSummary; requests: number }[],
): string[];
