// Pure pieces of the one-owner check (test/owners.test.ts): each rule takes a file's path and
// text and returns what it finds, so the test can show each rule failing on a tiny input.
import ts from 'typescript'

/** One finding: the rule, where, and the code that broke it. */
export interface Finding { rule: RuleName, file: string, line: number, text: string }

/** The facts with one owner each (docs/architecture.md#formats-and-defaults). */
export type RuleName = 'literal-default' | 'time-unit' | 'host-port' | 'uncoded-throw' | 'lru' | 'enum-values' | 'long-file'

/**
 * Literal numbers that are not a default's value: none, one, and "not yet" (-1). A parameter
 * `offset = 0` or a sum `count ?? 0` states no policy anybody would tune.
 */
const NEUTRAL = new Set([0, 1, -1])
/** Milliseconds in a minute, an hour and a day, and seconds in an hour and a day. */
const TIME_UNITS = new Set([60_000, 3_600_000, 86_400_000, 3600, 86_400])
/** A port in an expression: `port`, `ports.get(…)`, `addr.port`, `listenPort` (not `report` or `export`). */
const PORT = /(?:^|[^A-Za-z])ports?\b|[a-z]Ports?\b/
const UNIT_NAME = /^(?:MS_PER_)?(?:SECOND|MINUTE|HOUR|DAY|WEEK)S?(?:_MS|_S)?$|^(?:msPer(?:Second|Minute|Hour|Day)|(?:second|minute|hour|day|week)Ms)$/

/** Returns the value of a (possibly negated) numeric literal, or undefined for anything else. */
function numberOf (node: ts.Node | undefined): number | undefined {
  if (node === undefined) return undefined
  if (ts.isNumericLiteral(node)) return Number(node.text)
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand)) return -Number(node.operand.text)
  return undefined
}

/** Returns `node` and every node below it, depth first. */
function * walk (node: ts.Node): Generator<ts.Node> {
  yield node
  for (const child of node.getChildren()) yield * walk(child)
}

/** Returns the findings of every rule on one file; `enums` are the value lists of src/enums.ts. */
export function findOwnerViolations (file: string, text: string, enums: ReadonlyArray<readonly string[]>): Finding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const out: Finding[] = []
  const add = (rule: RuleName, node: ts.Node): void => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
    out.push({ rule, file, line, text: node.getText(source).replace(/\s+/g, ' ').slice(0, 100) })
  }
  for (const node of walk(source)) {
    // A default written where it is used: `x = 200` in a parameter list or a destructuring,
    // `options.x ?? 200`, zod's `.default(200)`.
    if ((ts.isParameter(node) || ts.isBindingElement(node)) && isPolicyNumber(node.initializer)) add('literal-default', node)
    // (An HTTP status answered when none came, `res.statusCode ?? 502`, is the protocol's value, not a setting.)
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken && isPolicyNumber(node.right) &&
      !/status(?:Code)?$/i.test(node.left.getText(source))) add('literal-default', node)
    // A named duration (`const PROBE_TIMEOUT_MS = 15_000`) set from a number: a timeout or an interval someone tunes.
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && /_MS$/.test(node.name.text) && !UNIT_NAME.test(node.name.text) &&
      node.initializer !== undefined && isArithmetic(node.initializer) && [...walk(node.initializer)].some((n) => ts.isNumericLiteral(n))) add('literal-default', node)
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'default' && isPolicyNumber(node.arguments[0])) add('literal-default', node)
    // A time unit spelt again: `const DAY_MS = …`, or the number itself.
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && UNIT_NAME.test(node.name.text)) add('time-unit', node)
    if (ts.isNumericLiteral(node) && TIME_UNITS.has(Number(node.text))) add('time-unit', node)
    // `${host}:${port}` by hand: a `:` (or `]:`) right before a port, in a template or a `+`.
    if (ts.isTemplateExpression(node)) {
      let before = node.head.text
      for (const span of node.templateSpans) {
        if (before.endsWith(':') && !before.endsWith('::') && !isFormatCall(span.expression) && PORT.test(span.expression.getText(source))) add('host-port', node)
        before = span.literal.text
      }
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken && PORT.test(node.right.getText(source)) &&
      ts.isBinaryExpression(node.left) && ts.isStringLiteral(node.left.right) && node.left.right.text.endsWith(':')) add('host-port', node)
    // An error thrown without a code: `throw new Error(…)` (or TypeError, RangeError …).
    if (ts.isThrowStatement(node) && node.expression !== undefined && ts.isNewExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) && /^(?:Type|Range|Syntax|Reference|Eval|URI)?Error$/.test(node.expression.expression.text)) add('uncoded-throw', node)
    // A bounded map written again: evicting the oldest key by hand.
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'next' && ts.isCallExpression(node.expression) &&
      ts.isPropertyAccessExpression(node.expression.expression) && node.expression.expression.name.text === 'keys') add('lru', node)
    // An enum's values retyped: two or more values of one enum in one union type or array literal.
    const members = ts.isUnionTypeNode(node)
      ? node.types.flatMap((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? [t.literal.text] : [])
      : ts.isArrayLiteralExpression(node) ? node.elements.flatMap((e) => ts.isStringLiteral(e) ? [e.text] : []) : []
    if (members.length >= 2 && enums.some((values) => members.filter((m) => values.includes(m)).length >= 2)) add('enum-values', node)
  }
  return out
}

/** A number, or numbers and names joined by operators: `15_000`, `10 * SECOND`, `2 ** 31 - 1`. */
function isArithmetic (node: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(node)) return isArithmetic(node.expression)
  if (ts.isBinaryExpression(node)) return isArithmetic(node.left) && isArithmetic(node.right)
  if (ts.isPrefixUnaryExpression(node)) return isArithmetic(node.operand)
  return ts.isNumericLiteral(node) || ts.isIdentifier(node)
}

/** A call of the owner itself, `formatHostPort(host, port)`: its result is already an address. */
function isFormatCall (node: ts.Expression): boolean {
  return ts.isCallExpression(node) && node.expression.getText() === 'formatHostPort'
}

/** A numeric literal that states a policy (a size, a timeout, a factor): not 0, 1 or -1. */
function isPolicyNumber (node: ts.Node | undefined): boolean {
  const n = numberOf(node)
  return n !== undefined && !NEUTRAL.has(n)
}

/** Files over this many lines say at their top why they are not split. */
export const MAX_LINES = 250
/** What the first comment of a long file says, followed by why: `Over 250 lines: …`. */
export const LONG_FILE_MARK = /\bover 250 lines\b/i

/** Returns a `long-file` finding when `text` is over {@link MAX_LINES} lines and its first comment does not say why. */
export function findLongFile (file: string, text: string): Finding[] {
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (lines <= MAX_LINES) return []
  const head = /^(?:\s*(?:\/\*[\s\S]*?\*\/|\/\/[^\n]*))+/.exec(text)?.[0] ?? ''
  return LONG_FILE_MARK.test(head) ? [] : [{ rule: 'long-file', file, line: 1, text: `${lines} lines, no sentence at the top saying why` }]
}

/** An allowed finding: the rule, the file, a substring of the code, and why it is not a second owner. */
export interface Allowance { rule: RuleName, file: string, code: string, why: string }

/** Returns the findings no allowance covers, and the allowances nothing used (so the list stays exact). */
export function applyAllowances (findings: readonly Finding[], allowances: readonly Allowance[]): { left: Finding[], unused: Allowance[] } {
  const used = new Set<Allowance>()
  const left = findings.filter((f) => {
    const a = allowances.find((a) => a.rule === f.rule && a.file === f.file && f.text.includes(a.code))
    if (a !== undefined) used.add(a)
    return a === undefined
  })
  return { left, unused: allowances.filter((a) => !used.has(a)) }
}
