/** A setting that stops start-up, with the variable's name in the message (server/main.ts prints it as one line). */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
