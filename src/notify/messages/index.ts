import { DEFAULT_LOCALE, type PartnerLocale } from '../locale.js';
import { en } from './en.js';
import { ptBR } from './pt-BR.js';
import type { Messages } from './types.js';

export type { Messages } from './types.js';

const catalogues: Record<PartnerLocale, Messages> = { 'pt-BR': ptBR, en };

/** The message catalogue of a locale. */
export function messagesFor(locale: PartnerLocale = DEFAULT_LOCALE): Messages {
  return catalogues[locale];
}
