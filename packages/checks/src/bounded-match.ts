import { Script, createContext } from 'node:vm';

/** How long one body match may run: a pattern with nested repetition can backtrack for hours. */
export const BODY_MATCH_TIMEOUT_MS = 200;

// V8 interrupts a running regular expression when a vm timeout fires; the main thread cannot otherwise
// stop one, and a hung match would block the analysis and the automatic rollback behind it.
const script = new Script('pattern.test(text)');
const context = createContext({});

/** Whether `pattern` matches `text`, or 'timeout' when the match ran longer than `timeoutMs`. */
export function boundedMatch(pattern: RegExp, text: string, timeoutMs = BODY_MATCH_TIMEOUT_MS): boolean | 'timeout' {
  pattern.lastIndex = 0;
  Object.assign(context, { pattern, text });
  try {
    return script.runInContext(context, { timeout: timeoutMs }) === true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw error;
  } finally {
    Object.assign(context, { pattern: undefined, text: undefined });
  }
}
