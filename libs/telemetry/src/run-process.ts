import { ConfigError } from '@herald/config';

/**
 * Runs an entry point's boot: a bad configuration prints the list of problems and exits 1
 * (no stack trace: the message names each variable); anything else exits 1 with its error.
 */
export function runProcess(name: string, boot: () => Promise<unknown>): void {
  boot().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: ${error.message}\n`);
    } else {
      process.stderr.write(
        `${name}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  });
}
