// The parsed and evaluated form of an open make document, cached per document version.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { MAX_ANALYZED_CHARS } from '../lspExt';
import type { Makefile } from '../make/ast';
import { evaluateMakefile, type Evaluation } from '../make/evaluator';
import { parseMakefile } from '../make/parser';

export interface DocumentModel {
  version: number;
  makefile: Makefile;
  evaluation: Evaluation;
}

const cache = new Map<string, DocumentModel>();

function isTooLarge(doc: TextDocument): boolean {
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
