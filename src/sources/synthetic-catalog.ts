/**
 * The marketplace catalogue the generator sells: the partner OuchHungry's brands 'Hungry'
 * (refrigerantes) and 'Ouch' (salgados), fictitious competitors in the same segments so
 * that segment shares mean something, and other segments a delivery app carries.
 */

/**
 * Shape of every product code: three letters, a three-letter brand code and four digits,
 * e.g. 'SKU-HNG-0001'. The cleaning rule for product codes uses this same pattern.
 */
export const PRODUCT_CODE_PATTERN = /^[A-Z]{3}-[A-Z]{3}-\d{4}$/;

/** PRODUCT_CODE_PATTERN as a string for SQL (DuckDB regexp_full_match). */
export const PRODUCT_CODE_REGEX = PRODUCT_CODE_PATTERN.source;

/** The partner's manufacturer name, as the catalogue spells it. */
export const PARTNER_MANUFACTURER = 'OuchHungry';

/** One product of the catalogue. */
export interface CatalogProduct {
  /** e.g. 'SKU-HNG-0001' (see PRODUCT_CODE_PATTERN). */
  code: string;
  name: string;
  brand: string;
  manufacturer: string;
  segment: string;
  /** Suggested retail price in BRL, two decimals, as text ('7.49'). */
  listPrice: string;
  /** Relative sales volume on an ordinary weekday. */
  popularity: number;
}

interface BrandLine {
  brand: string;
  /** Three upper-case letters used in the product code. */
  codeLetters: string;
  manufacturer: string;
  segment: string;
  /** [name without the brand, list price, popularity]. */
  items: ReadonlyArray<readonly [string, string, number]>;
}

const lines: readonly BrandLine[] = [
  {
    brand: 'Hungry', codeLetters: 'HNG', manufacturer: PARTNER_MANUFACTURER, segment: 'refrigerantes',
    items: [
      ['Cola 350ml lata', '4.99', 9], ['Cola 600ml', '6.99', 5], ['Cola 2L', '11.49', 8],
      ['Zero 350ml lata', '4.99', 5], ['Zero 2L', '11.49', 4], ['Guaraná 350ml lata', '4.49', 6],
      ['Guaraná 2L', '9.99', 6], ['Limão 350ml lata', '4.49', 2], ['Laranja 2L', '9.49', 2],
    ],
  },
  {
    brand: 'Fizz', codeLetters: 'FZZ', manufacturer: 'Fizz Bebidas S.A.', segment: 'refrigerantes',
    items: [['Cola 350ml lata', '4.79', 8], ['Cola 2L', '10.99', 7], ['Cola Zero 350ml lata', '4.79', 4], ['Laranja 2L', '8.99', 3]],
  },
  {
    brand: 'Guaraví', codeLetters: 'GRV', manufacturer: 'Bebidas Amazônia Ltda.', segment: 'refrigerantes',
    items: [['Guaraná 350ml lata', '3.99', 5], ['Guaraná 2L', '8.49', 5], ['Guaraná Zero 2L', '8.49', 2]],
  },
  {
    brand: 'Borbulha', codeLetters: 'BRB', manufacturer: 'Refrescos do Sul Ltda.', segment: 'refrigerantes',
    items: [['Uva 2L', '7.99', 2], ['Limão 2L', '7.99', 2], ['Cola 2L', '7.49', 3]],
  },
  {
    brand: 'Ouch', codeLetters: 'OCH', manufacturer: PARTNER_MANUFACTURER, segment: 'salgados',
    items: [
      ['Batata Original 96g', '9.49', 7], ['Batata Churrasco 96g', '9.49', 5], ['Batata Sour Cream 96g', '9.49', 4],
      ['Batata Original 45g', '4.99', 5], ['Onda Queijo 80g', '7.99', 4], ['Mandioca Chips 70g', '8.99', 3],
      ['Amendoim Japonês 150g', '6.49', 3], ['Pipoca Manteiga 60g', '4.99', 3],
    ],
  },
  {
    brand: 'Crocante', codeLetters: 'CRC', manufacturer: 'Crocante Alimentos Ltda.', segment: 'salgados',
    items: [['Batata Lisa 100g', '8.79', 6], ['Batata Ondulada 100g', '8.79', 5], ['Milho Queijo 140g', '7.49', 4], ['Torcida Bacon 120g', '5.49', 3]],
  },
  {
    brand: 'Petisko', codeLetters: 'PTK', manufacturer: 'Petisko Snacks Ltda.', segment: 'salgados',
    items: [['Amendoim Salgado 200g', '7.99', 3], ['Mix Salgadinhos 150g', '6.99', 3], ['Batata Palha 120g', '6.49', 2]],
  },
  {
    brand: 'Lupulada', codeLetters: 'LPL', manufacturer: 'Cervejaria Lupulada S.A.', segment: 'cervejas',
    // The keg is rare but makes prices above R$ 1.000 (thousands separators) appear.
    items: [['Pilsen 350ml lata', '3.99', 10], ['Pilsen 600ml', '8.99', 6], ['IPA 473ml lata', '9.99', 3], ['Pilsen Barril 50L', '1099.90', 0.05]],
  },
  {
    brand: 'Serrana', codeLetters: 'SRR', manufacturer: 'Cervejaria Serrana Ltda.', segment: 'cervejas',
    items: [['Puro Malte 350ml lata', '4.49', 7], ['Puro Malte 600ml', '9.49', 4], ['Weiss 500ml', '12.99', 2]],
  },
  {
    brand: 'Docelar', codeLetters: 'DCL', manufacturer: 'Docelar Confeitos Ltda.', segment: 'doces',
    items: [['Chocolate ao Leite 90g', '7.99', 4], ['Bombom Sortido 250g', '14.99', 2], ['Paçoca 20un', '12.49', 2]],
  },
  {
    brand: 'Brigadô', codeLetters: 'BRG', manufacturer: 'Brigadô Doceria ME', segment: 'doces',
    items: [['Brigadeiro 12un', '29.90', 2], ['Brownie 80g', '8.90', 3]],
  },
  {
    brand: 'Lanchão', codeLetters: 'LNC', manufacturer: 'Lanchão Food Service Ltda.', segment: 'lanches',
    items: [['X-Burger', '24.90', 8], ['X-Salada', '27.90', 6], ['Coxinha 6un', '19.90', 5], ['Combo Família', '89.90', 2]],
  },
  {
    brand: 'Pastel da Vila', codeLetters: 'PSV', manufacturer: 'Pastel da Vila ME', segment: 'lanches',
    items: [['Pastel de Carne', '12.90', 4], ['Pastel de Queijo', '11.90', 4]],
  },
  {
    brand: 'Fonte Clara', codeLetters: 'FTC', manufacturer: 'Águas Fonte Clara Ltda.', segment: 'aguas',
    items: [['Água Mineral 500ml', '2.99', 6], ['Água com Gás 500ml', '3.49', 3], ['Água Mineral 1,5L', '5.49', 3]],
  },
  {
    brand: 'Suco Bom', codeLetters: 'SCB', manufacturer: 'Suco Bom Alimentos S.A.', segment: 'sucos',
    items: [['Uva Integral 1L', '9.99', 3], ['Laranja 1L', '8.99', 3]],
  },
];

/** The full catalogue, in a fixed order (product codes never change between runs). */
export const CATALOG: readonly CatalogProduct[] = lines.flatMap((line) =>
  line.items.map(([name, listPrice, popularity], index) => ({
    code: `SKU-${line.codeLetters}-${String(index + 1).padStart(4, '0')}`,
    name: `${line.brand} ${name}`,
    brand: line.brand,
    manufacturer: line.manufacturer,
    segment: line.segment,
    listPrice,
    popularity,
  })),
);

/** Extra demand on Saturdays and Sundays by segment (on top of ~30% more orders). */
export const WEEKEND_SEGMENT_BOOST: Readonly<Record<string, number>> = { cervejas: 1.6, lanches: 1.3 };
