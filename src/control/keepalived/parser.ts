/**
 * keepalived.conf tokens -> a generic tree: every statement is a keyword, its arguments, and an
 * optional `{ }` block of child statements (value blocks such as virtual_ipaddress are blocks whose
 * children are bare values). The `{` may open on the keyword's line or the next one, as keepalived
 * allows. Unbalanced braces are reported, not fatal: keepalived reads on too.
 */
import type { LexNote, Position, Token } from './lexer.js';
import { splitLine } from './lexer.js';

export interface ConfNode extends Position {
  name: string;
  args: string[];
  /** The decommented source line the statement starts on. */
  source: string;
  children: ConfNode[] | null;
  /** The line of the closing brace (blocks only). */
  endLine?: number;
}

export function statementText(node: ConfNode): string {
  return [node.name, ...node.args].join(' ');
}

/**
 * The statement's own text from its source line, quotes intact (for misc_path and notify scripts,
 * which keepalived re-splits itself); falls back to the parsed words when the line holds more.
 */
export function rawStatement(node: ConfNode): string {
  const parts = splitLine(node.source);
  const simple =
    parts.every((p) => p.kind === 'word') && parts[0]?.kind === 'word' && parts[0].text === node.name;
  return simple ? node.source : [node.name, ...node.args.map((a) => (/\s/.test(a) ? `"${a}"` : a))].join(' ');
}

export function parse(tokens: readonly Token[]): { nodes: ConfNode[]; notes: LexNote[] } {
  const notes: LexNote[] = [];
  let i = 0;
  let lineText = '';

  /** Skips 'line' markers (remembering the text) and reports whether the next real token is `kind`. */
  const peekIs = (kind: Token['kind']): boolean => {
    let j = i;
    while (j < tokens.length && (tokens[j]!.kind === 'line' || tokens[j]!.kind === 'eol')) j++;
    return j < tokens.length && tokens[j]!.kind === kind;
  };

  const parseBlock = (opener: ConfNode | null): ConfNode[] => {
    const nodes: ConfNode[] = [];
    let current: ConfNode | null = null;
    const openBlock = (node: ConfNode) => {
      node.children = parseBlock(node);
    };
    while (i < tokens.length) {
      const tok = tokens[i++]!;
      switch (tok.kind) {
        case 'line':
          lineText = tok.text;
          break;
        case 'word':
          if (current) current.args.push(tok.text);
          else {
            current = {
              name: tok.text,
              args: [],
              source: lineText,
              children: null,
              file: tok.file,
              line: tok.line,
            };
            nodes.push(current);
          }
          break;
        case 'eol':
          if (current && peekIs('open')) {
            while (tokens[i]!.kind !== 'open') {
              const t = tokens[i++]!;
              if (t.kind === 'line') lineText = t.text;
            }
            i++;
            openBlock(current);
          }
          current = null;
          break;
        case 'open': {
          const node = current ?? {
            name: '{',
            args: [],
            source: lineText,
            children: null,
            file: tok.file,
            line: tok.line,
          };
          if (!current) nodes.push(node);
          openBlock(node);
          current = null;
          break;
        }
        case 'close':
          if (opener) {
            opener.endLine = tok.line;
            return nodes;
          }
          notes.push({
            file: tok.file,
            line: tok.line,
            statement: '}',
            reason: "extra '}' ignored (keepalived ignores it too)",
          });
          current = null;
          break;
      }
    }
    if (opener) {
      notes.push({
        file: opener.file,
        line: opener.line,
        statement: '{',
        reason: "this block has no closing '}': it runs to the end of the input",
      });
    }
    return nodes;
  };

  const nodes = parseBlock(null);
  return { nodes, notes };
}
