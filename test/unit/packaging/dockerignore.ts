// Which paths of the build context a .dockerignore leaves out, as Docker decides it: patterns in
// order, `!` lets a path back in, the last matching pattern wins, and a pattern that matches a folder
// matches everything in it. `*` and `?` stay within one path segment, `**` spans any number of them.

interface Rule {
  negated: boolean;
  pattern: RegExp;
}

export class DockerIgnore {
  private readonly rules: Rule[];

  constructor(text: string) {
    this.rules = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#'))
      .map((line) => {
        const negated = line.startsWith('!');
        const body = clean(negated ? line.slice(1).trim() : line);
        return { negated, pattern: toRegExp(body) };
      });
  }

  /** Whether the path (relative to the context, `/`-separated) is left out of the context. */
  excludes(relativePath: string): boolean {
    const candidates = ancestorsAndSelf(clean(relativePath));
    let excluded = false;
    for (const rule of this.rules) {
      if (candidates.some((candidate) => rule.pattern.test(candidate))) excluded = !rule.negated;
    }
    return excluded;
  }
}

/** `a/b/c` → [`a`, `a/b`, `a/b/c`]. */
function ancestorsAndSelf(path: string): string[] {
  const parts = path.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Like Go's filepath.Clean for our purposes: no leading `/` or `./`, no doubled or trailing `/`. */
function clean(path: string): string {
  return path
    .replace(/\/+/g, '/')
    .replace(/^(\.\/|\/)+/, '')
    .replace(/\/$/, '');
}

function toRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a final `**` matches anything.
      if (pattern[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else if (char === '\\' && i + 1 < pattern.length) out += escapeRegExp(pattern[++i] ?? '');
    else if (char === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        out += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else out += escapeRegExp(char);
  }
  return new RegExp(`^${out}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
