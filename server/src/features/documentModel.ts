// The parsed and evaluated form of an open make document, cached per document version.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Makefile } from '../make/ast';
import { evaluateMakefile, type Evaluation } from '../make/evaluator';
import { parseMakefile } from '../make/parser';

export interface DocumentModel {
  version: number;
  makefile: Makefile;
  evaluation: Evaluation;
}

const cache = new Map<string, DocumentModel>();

/**
 * Make files beyond this size are not analyzed in the editor (real Kbuild files are under 100 KB;
 * parsing 50 MB would hold the server for seconds): they get one informational diagnostic instead.
 */
export const MAX_ANALYZED_CHARS = 4 * 1024 * 1024;

export function isTooLarge(doc: TextDocument): boolean {
  return doc.getText().length > MAX_ANALYZED_CHARS;
}

export function documentModel(doc: TextDocument): DocumentModel {
  const hit = cache.get(doc.uri);
  if (hit && hit.version === doc.version) return hit;
  const makefile = parseMakefile(isTooLarge(doc) ? '' : doc.getText());
  const model = { version: doc.version, makefile, evaluation: evaluateMakefile(makefile) };
  cache.set(doc.uri, model);
  return model;
}

export function forgetDocument(uri: string): void {
  cache.delete(uri);
}
