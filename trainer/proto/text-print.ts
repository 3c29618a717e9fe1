// Message → protobuf text format, laid out as protobuf's TextFormat::Print does for Caffe: one field per
// line in field-number order, nested messages as `name {` … `}` indented by two spaces, enums by name,
// floats as the shortest of %.6g / %.9g that reads back to the same float32 (%.15g / %.17g for doubles).
import protobuf from 'protobufjs';

import { fieldsInNumberOrder, messageType, protoFieldName } from './root.js';

export function printTextMessage(messageName: string, message: object): string {
  const lines: string[] = [];
  printFields(messageType(messageName), message as Record<string, unknown>, '', lines);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function printFields(
  type: protobuf.Type,
  message: Record<string, unknown>,
  indent: string,
  lines: string[],
): void {
  for (const field of fieldsInNumberOrder(type)) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    const name = protoFieldName(type, field);
    const values = field.repeated ? Array.from(value as ArrayLike<unknown>) : [value];
    for (const item of values) {
      const resolved = field.resolvedType;
      if (resolved instanceof protobuf.Type) {
        lines.push(`${indent}${name} {`);
        printFields(resolved, item as Record<string, unknown>, `${indent}  `, lines);
        lines.push(`${indent}}`);
      } else if (field.type === 'bytes' && name.endsWith('_param')) {
        // Caffe compat: the message of this parameter is not in our schema, so it cannot be printed as text.
        lines.push(
          `${indent}# ${name}: ${(item as Uint8Array).length} bytes not shown (not in this trainer's schema)`,
        );
      } else {
        lines.push(`${indent}${name}: ${formatScalar(field, item)}`);
      }
    }
  }
}

function formatScalar(field: protobuf.Field, value: unknown): string {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return resolved.valuesById[value as number] ?? String(value);
  switch (field.type) {
    case 'string':
      return quote(new TextEncoder().encode(value as string), true);
    case 'bytes':
      return quote(value as Uint8Array, false);
    case 'bool':
      return value ? 'true' : 'false';
    case 'float':
      return formatFloat(value as number, 6, 9, (x) => Math.fround(x));
    case 'double':
      return formatFloat(value as number, 15, 17, (x) => x);
    default:
      return String(value);
  }
}

/** Like C's "%.{short}g", or "%.{long}g" when the short form does not read back to the same value. */
export function formatFloat(
  value: number,
  short: number,
  long: number,
  round: (x: number) => number,
): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const brief = formatG(value, short);
  return round(Number(brief)) === value ? brief : formatG(value, long);
}

/** C's %.{precision}g: exponent form below 1e-4 or at/above 10^precision, trailing zeros removed. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, exponentText] = value.toExponential(precision - 1).split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= precision) {
    const sign = exponent < 0 ? '-' : '+';
    return `${stripZeros(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return stripZeros(value.toFixed(Math.max(0, precision - 1 - exponent)));
}

function stripZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** A double-quoted string with C escapes, as protobuf's CEscape writes it; UTF-8 text is kept as it is. */
function quote(bytes: Uint8Array, utf8: boolean): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x22) out += '\\"';
    else if (b === 0x27) out += "\\'";
    else if (b === 0x5c) out += '\\\\';
    else if (b < 0x20 || b === 0x7f || (b >= 0x80 && !utf8)) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  // Bytes ≥ 0x80 of text were appended one char each; re-read them as UTF-8.
  return `${utf8 ? Buffer.from(out, 'latin1').toString('utf8') : out}"`;
}
