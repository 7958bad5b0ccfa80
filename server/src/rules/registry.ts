// The rules, in the order their diagnostics and fixes are offered. A new rule is a folder beside
// this file (see rule.ts) and one line here.
import type { Rule } from './rule';
import { nvheProfileMetadata } from './nvhe-profile-metadata';
import { orphanSections } from './orphan-sections';

export const RULES: readonly Rule[] = [nvheProfileMetadata, orphanSections];
