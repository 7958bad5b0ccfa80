// The parsed and evaluated form of an open make document, cached per document version. The cache is
// the server's state: each Workspace holds one (two servers in one process share nothing).
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

/** Text the editor features do not analyze (nor fix): the file-too-large diagnostic says so. */
export function tooLargeToAnalyze(text: string): boolean {
  return text.length > MAX_ANALYZED_CHARS;
}

/** The models of one server's open documents, by URI; a model is kept until its version changes or the document closes. */
export class DocumentModels {
  private readonly byUri = new Map<string, DocumentModel>();

  of(doc: TextDocument): DocumentModel {
    const hit = this.byUri.get(doc.uri);
    if (hit && hit.version === doc.version) return hit;
    const makefile = parseMakefile(tooLargeToAnalyze(doc.getText()) ? '' : doc.getText());
    const model = { version: doc.version, makefile, evaluation: evaluateMakefile(makefile) };
    this.byUri.set(doc.uri, model);
    return model;
  }

  forget(uri: string): void {
    this.byUri.delete(uri);
  }
}
