/**
 * A reader for the part of the WebAssembly script format (`.wast`) the conformance corpus uses:
 * `(module …)`, `(assert_return (invoke …) result*)`, `(assert_trap (invoke …) "msg")`,
 * `(assert_exhaustion (invoke …) "msg")`, `(assert_invalid (module …) "msg")` and bare
 * `(invoke …)`. Modules stay text (wabt compiles them); arguments and results are constants.
 */

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64'

/** A constant: i32 as a signed number, i64 as a bigint, floats as numbers. */
export interface Constant {
  type: ValueType
  value: number | bigint
}

/** An expected result: a constant, or a NaN of either kind. */
export type Expected = Constant | { type: 'f32' | 'f64'; nan: 'canonical' | 'arithmetic' }

export interface Invoke {
  name: string
  args: Constant[]
}

export type Command =
  | { kind: 'module'; text: string; line: number }
  | { kind: 'invalid'; text: string; line: number }
  | { kind: 'return'; invoke: Invoke; expected: Expected[]; line: number }
  | { kind: 'trap'; invoke: Invoke; message: string; line: number }
  | { kind: 'exhaustion'; invoke: Invoke; line: number }
  | { kind: 'invoke'; invoke: Invoke; line: number }

type Sexpr = string | Sexpr[]

export class WastSyntaxError extends Error {
  override name = 'WastSyntaxError'
}

/** Splits a script into its top-level forms, each with its source text and line. */
function topLevelForms(source: string): Array<{ text: string; line: number }> {
  const forms: Array<{ text: string; line: number }> = []
  let depth = 0
  let start = 0
  let line = 1
  let startLine = 1
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '\n') line++
    else if (c === ';' && source[i + 1] === ';') {
      while (i < source.length && source[i] !== '\n') i++
      line++
    } else if (c === '(' && source[i + 1] === ';') {
      const end = source.indexOf(';)', i)
      if (end < 0) throw new WastSyntaxError(`unterminated block comment at line ${line}`)
      line += source.slice(i, end).split('\n').length - 1
      i = end + 1
    } else if (c === '"') {
      for (i++; i < source.length && source[i] !== '"'; i++) if (source[i] === '\\') i++
    } else if (c === '(') {
      if (depth === 0) {
        start = i
        startLine = line
      }
      depth++
    } else if (c === ')') {
      depth--
      if (depth === 0) forms.push({ text: source.slice(start, i + 1), line: startLine })
      if (depth < 0) throw new WastSyntaxError(`unbalanced ')' at line ${line}`)
    }
  }
  if (depth !== 0) throw new WastSyntaxError('unbalanced parentheses at end of script')
  return forms
}

function tokenize(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|[()]|[^\s()]+/g) ?? []
}

function parseSexpr(text: string): Sexpr {
  const tokens = tokenize(text)
  let pos = 0
  const read = (): Sexpr => {
    const token = tokens[pos++]
    if (token === undefined) throw new WastSyntaxError('unexpected end of form')
    if (token !== '(') return token
    const list: Sexpr[] = []
    while (tokens[pos] !== ')') {
      if (pos >= tokens.length) throw new WastSyntaxError('unterminated form')
      list.push(read())
    }
    pos++
    return list
  }
  return read()
}

function unquote(token: Sexpr | undefined): string {
  if (typeof token !== 'string' || !token.startsWith('"')) throw new WastSyntaxError(`expected a string, got ${String(token)}`)
  return token.slice(1, -1)
}

function parseInteger(text: string, bits: 32 | 64): bigint {
  const clean = text.replaceAll('_', '')
  const negative = clean.startsWith('-')
  const magnitude = BigInt(clean.replace(/^[+-]/, ''))
  return BigInt.asIntN(bits, negative ? -magnitude : magnitude)
}

/** Parses a float literal: decimal, hexadecimal (`0x1.8p3`), `inf`, `nan`, `nan:0x…` (payload dropped). */
export function parseFloatLiteral(text: string): number {
  const clean = text.replaceAll('_', '')
  const sign = clean.startsWith('-') ? -1 : 1
  const body = clean.replace(/^[+-]/, '')
  if (body === 'inf') return sign * Infinity
  if (body.startsWith('nan')) return NaN
  if (!body.startsWith('0x')) return sign * Number(body)
  const match = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i.exec(body)
  if (match === null) throw new WastSyntaxError(`bad hex float ${text}`)
  const [, whole = '', fraction = '', exponent = '0'] = match
  const mantissa = BigInt(`0x0${whole}${fraction}`)
  return sign * Number(mantissa) * 2 ** (Number(exponent) - 4 * fraction.length)
}

function parseConstant(form: Sexpr): Constant {
  if (!Array.isArray(form) || typeof form[0] !== 'string' || typeof form[1] !== 'string') {
    throw new WastSyntaxError(`expected a constant, got ${JSON.stringify(form)}`)
  }
  const [op, literal] = form as [string, string]
  switch (op) {
    case 'i32.const':
      return { type: 'i32', value: Number(parseInteger(literal, 32)) }
    case 'i64.const':
      return { type: 'i64', value: parseInteger(literal, 64) }
    case 'f32.const':
      return { type: 'f32', value: Math.fround(parseFloatLiteral(literal)) }
    case 'f64.const':
      return { type: 'f64', value: parseFloatLiteral(literal) }
    default:
      throw new WastSyntaxError(`unsupported constant ${op}`)
  }
}

function parseExpected(form: Sexpr): Expected {
  if (Array.isArray(form) && (form[0] === 'f32.const' || form[0] === 'f64.const')) {
    const literal = form[1]
    if (literal === 'nan:canonical' || literal === 'nan:arithmetic') {
      return { type: form[0] === 'f32.const' ? 'f32' : 'f64', nan: literal === 'nan:canonical' ? 'canonical' : 'arithmetic' }
    }
  }
  return parseConstant(form)
}

function parseInvoke(form: Sexpr | undefined): Invoke {
  if (!Array.isArray(form) || form[0] !== 'invoke') throw new WastSyntaxError(`expected (invoke …), got ${JSON.stringify(form)}`)
  return { name: unquote(form[1]), args: form.slice(2).map(parseConstant) }
}

/** The text of the `(module …)` inside an assertion. */
function innerModule(text: string): string {
  // From the module to before the assertion's closing parenthesis.
  const forms = topLevelForms(text.slice(text.indexOf('(module'), text.lastIndexOf(')')))
  const first = forms[0]
  if (first === undefined) throw new WastSyntaxError('expected a module')
  return first.text
}

export function parseWast(source: string): Command[] {
  return topLevelForms(source).map(({ text, line }): Command => {
    const head = /^\(\s*([a-z_]+)/.exec(text)?.[1]
    if (head === 'module') return { kind: 'module', text, line }
    if (head === 'assert_invalid') return { kind: 'invalid', text: innerModule(text), line }
    const form = parseSexpr(text)
    if (!Array.isArray(form)) throw new WastSyntaxError(`line ${line}: expected a form`)
    switch (head) {
      case 'assert_return':
        return { kind: 'return', invoke: parseInvoke(form[1]), expected: form.slice(2).map(parseExpected), line }
      case 'assert_trap':
        return { kind: 'trap', invoke: parseInvoke(form[1]), message: unquote(form[2]), line }
      case 'assert_exhaustion':
        return { kind: 'exhaustion', invoke: parseInvoke(form[1]), line }
      case 'invoke':
        return { kind: 'invoke', invoke: parseInvoke(form), line }
      default:
        throw new WastSyntaxError(`line ${line}: unsupported command ${String(head)}`)
    }
  })
}
