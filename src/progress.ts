import { Listr, PRESET_TIMER } from 'listr2';
import winston, { type Logger } from 'winston';

/** Runs the named stages of a long command and shows their progress. */
export interface StageReporter {
  /**
   * Runs `body` as one stage. `update` sets a short live detail line ("2026-11-20:
   * transactions"); on a TTY it animates, otherwise it is logged at debug level.
   */
  stage<T>(title: string, body: (update: (detail: string) => void) => Promise<T>): Promise<T>;
}

export interface StageReporterOptions {
  /** Live progress needs a TTY on stderr; cron gets plain lines. */
  interactive: boolean;
  logger: Logger;
  /** --quiet: no progress at all, only warnings and errors. */
  quiet?: boolean;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Live listr2 spinners on a TTY; "stage ... done in N s" log lines otherwise. */
export function createStageReporter(options: StageReporterOptions): StageReporter {
  if (!options.interactive || options.quiet) {
    return {
      async stage(title, body) {
        const started = Date.now();
        options.logger.info(`${title} ...`);
        const result = await body((detail) => options.logger.debug(`${title}: ${detail}`));
        options.logger.info(`${title}: done in ${seconds(Date.now() - started)}`);
        return result;
      },
    };
  }
  return {
    async stage<T>(title: string, body: (update: (detail: string) => void) => Promise<T>): Promise<T> {
      let result: T | undefined;
      const list = new Listr(
        [
          {
            title,
            task: async (_context, task) => {
              result = await body((detail) => {
                task.output = detail;
              });
            },
          },
        ],
        {
          // The top-level handler prints the one-line error; listr must not print it again
          // nor steal SIGINT from the runner's clean shutdown.
          exitOnError: true,
          registerSignalListeners: false,
          rendererOptions: { showErrorMessage: false, collapseErrors: true, timer: PRESET_TIMER },
        },
      );
      // The spinner and its detail line say what info lines would; warnings still show,
      // and the run's JSON log keeps everything.
      const consoles = options.logger.transports.filter((transport) => transport instanceof winston.transports.Console && transport.level === 'info');
      for (const transport of consoles) transport.level = 'warn';
      try {
        await list.run();
      } finally {
        for (const transport of consoles) transport.level = 'info';
      }
      return result as T;
    },
  };
}
