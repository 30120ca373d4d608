/**
 * A guest source as it is compiled in every run: without indentation and comment lines, which
 * QuickJS's lexer would otherwise read again in each fresh context. Lines stay where they are, so
 * line numbers in a stack are those of the readable source. Only for this project's own guest
 * sources: they hold no template literal and no string or comment that spans lines.
 */
export function compactGuestSource(source: string): string {
  return source
    .split('\n')
    .map((line) => {
      const code = line.trim();
      return code.startsWith('//') ? '' : code;
    })
    .join('\n');
}
