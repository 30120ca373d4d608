export const CONSOLE_LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;
export type ConsoleLevel = (typeof CONSOLE_LEVELS)[number];

export const CONSOLE_MAX_LINES = 1000;
export const CONSOLE_MAX_BYTES = 64 * 1024;
export const CONSOLE_TRUNCATED_LINE = '[truncated]';

/**
 * Collects sandbox console output within a line and byte budget, so a chatty script cannot
 * grow the stored result without bound. Once the budget is hit, one marker line is kept and
 * everything after it is dropped.
 */
export class ConsoleCapture {
  private readonly collected: string[] = [];
  private bytes = 0;
  private truncated = false;

  /** @returns whether further lines will still be kept, so the sandbox can stop formatting. */
  push(level: ConsoleLevel, text: string): boolean {
    if (this.truncated) return false;
    const line = `[${level}] ${text}`;
    const lineBytes = Buffer.byteLength(line, 'utf8');
    if (this.collected.length >= CONSOLE_MAX_LINES || this.bytes + lineBytes > CONSOLE_MAX_BYTES) {
      this.truncated = true;
      this.collected.push(CONSOLE_TRUNCATED_LINE);
      return false;
    }
    this.collected.push(line);
    this.bytes += lineBytes;
    return true;
  }

  lines(): string[] {
    return [...this.collected];
  }
}
