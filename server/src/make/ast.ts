// The syntax tree of a GNU make file (Makefile, Kbuild, *.mk, Kbuild .cmd files).
// Positions are 0-based lines and UTF-16 columns, like LSP, and always point into the original text
// (continuation lines included), so diagnostics and edits land exactly.

export interface Pos {
  line: number;
  character: number;
}
export interface Span {
  start: Pos;
  end: Pos;
}

/** A piece of make text: literal runs and references, not yet expanded. */
export type Expr = ExprPart[];

export type ExprPart =
  | { kind: 'text'; text: string; span: Span }
  /** `$(NAME)`, `${NAME}` or `$X`; the name itself may hold references (`$(CFLAGS_$(f))`). */
  | { kind: 'ref'; name: Expr; span: Span }
  /** Substitution reference `$(var:from=to)`. */
  | { kind: 'substRef'; name: Expr; from: Expr; to: Expr; span: Span }
  /** Function call `$(fn arg1,arg2,...)`, arguments split at top-level commas. */
  | { kind: 'call'; fn: string; args: Expr[]; span: Span };

export type AssignOp = '=' | ':=' | '::=' | ':::=' | '+=' | '?=' | '!=';
export type Modifier = 'override' | 'export' | 'private' | 'unexport';

export interface AssignmentStmt {
  kind: 'assignment';
  name: Expr;
  /** The name as written (unexpanded), e.g. `obj-$(CONFIG_KVM)`. */
  nameText: string;
  op: AssignOp;
  value: Expr;
  /** The value as written, continuations joined as make joins them. */
  valueText: string;
  modifiers: Modifier[];
  /** Set for target-specific assignments `targets: VAR = value`. */
  targets?: Expr;
  span: Span;
  nameSpan: Span;
  opSpan: Span;
  valueSpan: Span;
}

export interface RecipeLine {
  /** The command text after the leading tab (or .RECIPEPREFIX), continuations kept as make keeps them. */
  text: Expr;
  raw: string;
  span: Span;
}

export interface RuleStmt {
  kind: 'rule';
  targets: Expr;
  targetsText: string;
  prerequisites: Expr;
  orderOnly?: Expr;
  /** Static pattern rules `targets: target-pattern: prereq-patterns`: the target pattern (addition). */
  targetPattern?: Expr;
  doubleColon: boolean;
  /** Inline recipe after `;` plus tab-indented lines that follow. */
  recipe: RecipeLine[];
  span: Span;
}

export interface DefineStmt {
  kind: 'define';
  name: Expr;
  nameText: string;
  op: AssignOp;
  modifiers: Modifier[];
  /** Body lines between define and endef, newline-joined. */
  body: Expr;
  bodyText: string;
  /** False when the file ended before `endef`. */
  terminated: boolean;
  span: Span;
  nameSpan: Span;
  bodySpan: Span;
}

export type ConditionalKind = 'ifeq' | 'ifneq' | 'ifdef' | 'ifndef';
export interface ConditionTest {
  kind: ConditionalKind;
  /** ifeq/ifneq: two operands; ifdef/ifndef: one (a variable name expression). */
  args: Expr[];
  span: Span;
}
export interface ConditionalBranch {
  /** null for a final plain `else`. */
  test: ConditionTest | null;
  body: Statement[];
  span: Span;
}
export interface ConditionalStmt {
  kind: 'conditional';
  branches: ConditionalBranch[];
  /** False when the file ended before `endif`. */
  terminated: boolean;
  span: Span;
}

export interface IncludeStmt {
  kind: 'include';
  /** `-include` and `sinclude`. */
  optional: boolean;
  files: Expr;
  span: Span;
}

export interface DirectiveStmt {
  kind: 'directive';
  directive: 'export' | 'unexport' | 'vpath' | 'undefine' | 'override';
  args: Expr;
  span: Span;
}

/** A line that is only an expansion, e.g. `$(eval ...)`, `$(error ...)`, `$(call foo)`. */
export interface ExpressionStmt {
  kind: 'expression';
  expr: Expr;
  span: Span;
}

export interface CommentStmt {
  kind: 'comment';
  text: string;
  span: Span;
}

/** A line the parser could not classify; always paired with a ParseDiagnostic. */
export interface ErrorStmt {
  kind: 'error';
  message: string;
  span: Span;
}

export type Statement =
  | AssignmentStmt
  | RuleStmt
  | DefineStmt
  | ConditionalStmt
  | IncludeStmt
  | DirectiveStmt
  | ExpressionStmt
  | CommentStmt
  | ErrorStmt;

export interface ParseDiagnostic {
  severity: 'error' | 'warning';
  message: string;
  span: Span;
}

export interface Makefile {
  statements: Statement[];
  diagnostics: ParseDiagnostic[];
  /** Number of physical lines in the text. */
  lineCount: number;
  /** 'crlf' when most lines end in CRLF; edits should keep it. */
  eol: 'lf' | 'crlf';
}
