/**
 * Text for a terminal, with the control characters of strangers made visible. Endpoint error
 * messages, JSON keys an endpoint chose, peer ids and event details reach the CLI's output; a raw
 * ESC in them could retitle the window, clear the screen, fake progress lines or (in some
 * terminals) do worse. {@link termSafe} escapes every C0 control except newline and tab (so also
 * ESC and carriage return), DEL, every C1 control (8-bit CSI, OSC, ...) and the Unicode bidi
 * overrides and isolates, as `\uXXXX`: readable in plain text and still valid inside a JSON string.
 * Every printer of the CLI passes what it prints through it; its own bar control (`\r\x1b[2K`) is
 * written outside.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with terminal control characters escaped as `\uXXXX` (newline and tab kept). */
export function termSafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `console.log` of {@link termSafe} text. */
export function printOut(text: string): void {
  console.log(termSafe(text));
}

/** `console.error` of {@link termSafe} text. */
export function printErr(text: string): void {
  console.error(termSafe(text));
}
