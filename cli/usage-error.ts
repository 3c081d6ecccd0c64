/** A mistake on the command line: its message is one line naming the problem and the fix. */
export class UsageError extends Error {}
