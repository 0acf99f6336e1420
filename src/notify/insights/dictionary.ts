import type { PartnerLocale } from '../locale.js';
import type { ReportColumn } from '../../reports/types.js';

/**
 * The data dictionary of a package (dictionary.json and a section of insights.html): per
 * contract column its meaning, unit, type, time zone, allowed values and privacy rule, in
 * the partner's locale. Column names and values stay as in the files.
 */

export interface DictionaryEntry {
  column: string;
  type: string;
  meaning: string;
  unit: string | null;
  time_zone: string | null;
  allowed_values: string | null;
  privacy: string | null;
}

export interface Dictionary {
  report: string;
  locale: PartnerLocale;
  columns: DictionaryEntry[];
}

type Text = Record<PartnerLocale, string>;
interface ColumnText {
  meaning: Text;
  unit?: Text;
  timeZone?: true;
  allowed?: Text;
  privacy?: Text;
}

const SP = 'America/Sao_Paulo';
const brl: Text = { 'pt-BR': 'R$ (reais), 2 casas decimais', en: 'BRL (reais), 2 decimal places' };
const unitsText: Text = { 'pt-BR': 'unidades', en: 'units' };
const countText = (pt: string, english: string): Text => ({ 'pt-BR': pt, en: english });
const pseudonym = (what: Text): ColumnText => ({
  meaning: what,
  unit: { 'pt-BR': '64 caracteres hexadecimais', en: '64 hex characters' },
  privacy: {
    'pt-BR': 'pseudônimo HMAC-SHA256 com chave exclusiva do parceiro: o mesmo cliente ou pedido tem sempre o mesmo código, mas o identificador real nunca sai',
    en: 'HMAC-SHA256 pseudonym under a key of this partner: the same customer or order always has the same key, the real id never leaves',
  },
});
const paymentMethods: Text = {
  'pt-BR': 'pix (Pix), credit_card (cartão de crédito), debit_card (cartão de débito), cash (dinheiro), voucher (vale-refeição ou cupom), unknown (não informado)',
  en: 'pix, credit_card, debit_card, cash, voucher, unknown (not recorded)',
};
const states: Text = { 'pt-BR': 'sigla da UF: AC, AL, AP, AM, BA, CE, DF, ES, GO, MA, MT, MS, MG, PA, PB, PR, PE, PI, RJ, RN, RS, RO, RR, SC, SP, SE, TO', en: 'two-letter UF: AC, AL, AP, AM, BA, CE, DF, ES, GO, MA, MT, MS, MG, PA, PB, PR, PE, PI, RJ, RN, RS, RO, RR, SC, SP, SE, TO' };
const kRule: Text = {
  'pt-BR': 'linhas com menos de k clientes não aparecem: são somadas em OUTRAS ou retiradas',
  en: 'rows with fewer than k customers do not appear: they are added into OUTRAS or left out',
};
const shareRule: Text = {
  'pt-BR': 'vazio (NULL) na linha OUTRAS e quando o restante do segmento na cidade teria menos de k clientes',
  en: 'empty (NULL) on OUTRAS rows and where the rest of the segment in the city would have fewer than k customers',
};

const texts: Record<string, ColumnText> = {
  sale_date: { meaning: countText('dia da venda no calendário de São Paulo', 'day of the sale in the São Paulo calendar'), unit: countText('data AAAA-MM-DD', 'date YYYY-MM-DD'), timeZone: true },
  sale_time: { meaning: countText('hora da venda no relógio de São Paulo, ao segundo', 'São Paulo wall-clock time of the sale, to the second'), unit: countText('hora HH:MM:SS', 'time HH:MM:SS'), timeZone: true },
  order_key: pseudonym(countText('código do pedido (venda)', 'order (sale) key')),
  customer_key: pseudonym(countText('código do cliente', 'customer key')),
  product_code: { meaning: countText('código do produto (SKU)', 'product code (SKU)') },
  product_name: { meaning: countText('nome do produto no catálogo mais recente do período', "product name in the period's latest catalogue") },
  segment: { meaning: countText('segmento do produto', 'product segment'), allowed: countText('aguas, cervejas, doces, lanches, refrigerantes, salgados, sucos', 'aguas, cervejas, doces, lanches, refrigerantes, salgados, sucos') },
  city: { meaning: countText('cidade da venda', 'city of the sale') },
  state: { meaning: countText('estado (UF) da venda', 'state (UF) of the sale'), allowed: states },
  unit_price: { meaning: countText('preço por unidade', 'price per unit'), unit: brl },
  units: { meaning: countText('unidades vendidas nesta venda', 'units sold in this sale'), unit: unitsText },
  line_total: { meaning: countText('unit_price × units', 'unit_price × units'), unit: brl },
  payment_method: { meaning: countText('forma de pagamento (valores em inglês, como no sistema de origem)', 'payment method (values as in the source system)'), allowed: paymentMethods },
  month: { meaning: countText('mês das vendas, no calendário de São Paulo', 'month of the sales, São Paulo calendar'), unit: countText('AAAA-MM', 'YYYY-MM'), timeZone: true },
  units_sold: { meaning: countText('unidades vendidas em vendas concluídas', 'units sold in completed sales'), unit: unitsText, privacy: kRule },
  gross_revenue: { meaning: countText('soma de unit_price × units', 'sum of unit_price × units'), unit: brl, privacy: kRule },
  avg_unit_price: { meaning: countText('gross_revenue ÷ units_sold, arredondado ao centavo', 'gross_revenue ÷ units_sold, rounded to the cent'), unit: brl },
  min_unit_price: { meaning: countText('menor preço unitário praticado', 'lowest unit price charged'), unit: brl },
  max_unit_price: { meaning: countText('maior preço unitário praticado', 'highest unit price charged'), unit: brl },
  orders: { meaning: countText('vendas concluídas (pedidos)', 'completed sales (orders)'), unit: countText('pedidos', 'orders') },
  customers_reached: { meaning: countText('clientes distintos que compraram', 'distinct customers who bought'), unit: countText('clientes', 'customers'), privacy: countText('sempre pelo menos k', 'always at least k') },
  segment_share_units: {
    meaning: countText('units_sold ÷ unidades de todo o segmento do produto na cidade, todas as marcas somadas', "units_sold ÷ units of the product's whole segment in the city, every brand counted"),
    unit: countText('fração de 0 a 1 (0,2500 = 25%)', 'fraction 0 to 1 (0.2500 = 25%)'),
    privacy: shareRule,
  },
  segment_share_revenue: {
    meaning: countText('gross_revenue ÷ receita de todo o segmento do produto na cidade, todas as marcas somadas', "gross_revenue ÷ revenue of the product's whole segment in the city, every brand counted"),
    unit: countText('fração de 0 a 1 (0,2500 = 25%)', 'fraction 0 to 1 (0.2500 = 25%)'),
    privacy: shareRule,
  },
  units_mom_change: {
    meaning: countText('diferença absoluta: units_sold menos units_sold da mesma linha no mês anterior (não é porcentagem)', "absolute difference: units_sold minus the same row's units_sold last month (not a percentage)"),
    unit: unitsText,
    privacy: countText('vazio (NULL) quando a linha não existia ou estava oculta no mês anterior', 'empty (NULL) when the row was absent or hidden last month'),
  },
};

const kText: Text = { 'pt-BR': 'k', en: 'k' };

/** The dictionary of a report's columns in a locale; k is spelled out in the privacy rules. */
export function buildDictionary(report: string, columns: readonly ReportColumn[], locale: PartnerLocale, k: number): Dictionary {
  const withK = (text: string) => text.replaceAll(` ${kText[locale]} `, ` ${k} `).replace(/ k$/, ` ${k}`);
  return {
    report,
    locale,
    columns: columns.map((column) => {
      const text = texts[column.name];
      return {
        column: column.name,
        type: column.type,
        // A column without a translation keeps the contract's own description rather than nothing.
        meaning: text?.meaning[locale] ?? column.description,
        unit: text?.unit?.[locale] ?? null,
        time_zone: text?.timeZone ? SP : null,
        allowed_values: text?.allowed?.[locale] ?? null,
        privacy: text?.privacy ? withK(text.privacy[locale]) : null,
      };
    }),
  };
}
