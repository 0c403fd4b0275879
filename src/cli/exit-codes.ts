/**
 * Exit codes of every command, as `nomad` and `kubectl` users expect them:
 * 0 done (an applied plan succeeded), 1 failed (an execution failed or was cancelled, the daemon
 * could not be reached or answered 5xx), 2 bad input or refused (usage errors, 4xx answers, plans no
 * allocation can satisfy).
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_REFUSED = 2;
/** Interrupted by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** An error the command line reports as one message, ending the process with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}
