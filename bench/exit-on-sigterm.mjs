// Preloaded (--import) into every target of a profile run: SIGTERM ends the process with a
// normal exit, the only way `--cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
