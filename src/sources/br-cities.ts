/**
 * Real Brazilian geography for the synthetic generator: the 27 federative units with the
 * Correios CEP ranges of each, and a table of real municipalities with their UF, phone
 * area code (DDD) and approximate population (IBGE 2022 census, rounded). Customers and
 * sales are drawn in proportion to population, so São Paulo and Rio dominate as they do
 * in a real marketplace while every UF appears.
 */

/** A federative unit: its code, name, CEP ranges and a regional price level. */
export interface BrState {
  /** Two-letter UF code, e.g. 'SP'. */
  uf: string;
  name: string;
  /** Inclusive ranges of the first five CEP digits assigned to the UF by Correios. */
  cepRanges: ReadonlyArray<readonly [number, number]>;
  /** Regional price level around the list price (logistics makes the North dearer). */
  priceLevel: number;
}

/** A municipality the generator places customers in. */
export interface BrCity {
  /** Official name, with accents, as IBGE spells it. */
  name: string;
  uf: string;
  /** Phone area code of the municipality. */
  ddd: number;
  /** Approximate population (IBGE 2022). */
  population: number;
}

export const BR_STATES: readonly BrState[] = [
  { uf: 'AC', name: 'Acre', cepRanges: [[69900, 69999]], priceLevel: 1.12 },
  { uf: 'AL', name: 'Alagoas', cepRanges: [[57000, 57999]], priceLevel: 0.97 },
  { uf: 'AM', name: 'Amazonas', cepRanges: [[69000, 69299], [69400, 69899]], priceLevel: 1.1 },
  { uf: 'AP', name: 'Amapá', cepRanges: [[68900, 68999]], priceLevel: 1.1 },
  { uf: 'BA', name: 'Bahia', cepRanges: [[40000, 48999]], priceLevel: 0.98 },
  { uf: 'CE', name: 'Ceará', cepRanges: [[60000, 63999]], priceLevel: 0.97 },
  { uf: 'DF', name: 'Distrito Federal', cepRanges: [[70000, 72799], [73000, 73699]], priceLevel: 1.05 },
  { uf: 'ES', name: 'Espírito Santo', cepRanges: [[29000, 29999]], priceLevel: 0.99 },
  { uf: 'GO', name: 'Goiás', cepRanges: [[72800, 72999], [73700, 76799]], priceLevel: 0.99 },
  { uf: 'MA', name: 'Maranhão', cepRanges: [[65000, 65999]], priceLevel: 0.98 },
  { uf: 'MG', name: 'Minas Gerais', cepRanges: [[30000, 39999]], priceLevel: 0.97 },
  { uf: 'MS', name: 'Mato Grosso do Sul', cepRanges: [[79000, 79999]], priceLevel: 1.02 },
  { uf: 'MT', name: 'Mato Grosso', cepRanges: [[78000, 78899]], priceLevel: 1.04 },
  { uf: 'PA', name: 'Pará', cepRanges: [[66000, 68899]], priceLevel: 1.06 },
  { uf: 'PB', name: 'Paraíba', cepRanges: [[58000, 58999]], priceLevel: 0.96 },
  { uf: 'PE', name: 'Pernambuco', cepRanges: [[50000, 56999]], priceLevel: 0.98 },
  { uf: 'PI', name: 'Piauí', cepRanges: [[64000, 64999]], priceLevel: 0.96 },
  { uf: 'PR', name: 'Paraná', cepRanges: [[80000, 87999]], priceLevel: 0.99 },
  { uf: 'RJ', name: 'Rio de Janeiro', cepRanges: [[20000, 28999]], priceLevel: 1.03 },
  { uf: 'RN', name: 'Rio Grande do Norte', cepRanges: [[59000, 59999]], priceLevel: 0.97 },
  { uf: 'RO', name: 'Rondônia', cepRanges: [[76800, 76999]], priceLevel: 1.07 },
  { uf: 'RR', name: 'Roraima', cepRanges: [[69300, 69399]], priceLevel: 1.12 },
  { uf: 'RS', name: 'Rio Grande do Sul', cepRanges: [[90000, 99999]], priceLevel: 1.0 },
  { uf: 'SC', name: 'Santa Catarina', cepRanges: [[88000, 89999]], priceLevel: 1.02 },
  { uf: 'SE', name: 'Sergipe', cepRanges: [[49000, 49999]], priceLevel: 0.97 },
  { uf: 'SP', name: 'São Paulo', cepRanges: [[1000, 19999]], priceLevel: 1.0 },
  { uf: 'TO', name: 'Tocantins', cepRanges: [[77000, 77999]], priceLevel: 1.05 },
];

// Source: IBGE, Censo Demográfico 2022 (populations rounded to the thousand).
export const BR_CITIES: readonly BrCity[] = [
  // São Paulo
  { name: 'São Paulo', uf: 'SP', ddd: 11, population: 11_451_000 },
  { name: 'Guarulhos', uf: 'SP', ddd: 11, population: 1_292_000 },
  { name: 'Campinas', uf: 'SP', ddd: 19, population: 1_139_000 },
  { name: 'São Bernardo do Campo', uf: 'SP', ddd: 11, population: 811_000 },
  { name: 'Santo André', uf: 'SP', ddd: 11, population: 749_000 },
  { name: 'Osasco', uf: 'SP', ddd: 11, population: 729_000 },
  { name: 'Sorocaba', uf: 'SP', ddd: 15, population: 724_000 },
  { name: 'Ribeirão Preto', uf: 'SP', ddd: 16, population: 699_000 },
  { name: 'São José dos Campos', uf: 'SP', ddd: 12, population: 697_000 },
  { name: 'São José do Rio Preto', uf: 'SP', ddd: 17, population: 480_000 },
  { name: 'Mogi das Cruzes', uf: 'SP', ddd: 11, population: 452_000 },
  { name: 'Jundiaí', uf: 'SP', ddd: 11, population: 443_000 },
  { name: 'Piracicaba', uf: 'SP', ddd: 19, population: 423_000 },
  { name: 'Mauá', uf: 'SP', ddd: 11, population: 418_000 },
  { name: 'Santos', uf: 'SP', ddd: 13, population: 419_000 },
  { name: 'Diadema', uf: 'SP', ddd: 11, population: 393_000 },
  { name: 'Carapicuíba', uf: 'SP', ddd: 11, population: 387_000 },
  { name: 'Bauru', uf: 'SP', ddd: 14, population: 379_000 },
  { name: 'Itaquaquecetuba', uf: 'SP', ddd: 11, population: 369_000 },
  { name: 'Franca', uf: 'SP', ddd: 16, population: 353_000 },
  { name: 'Praia Grande', uf: 'SP', ddd: 13, population: 350_000 },
  { name: 'Barueri', uf: 'SP', ddd: 11, population: 316_000 },
  { name: 'Taubaté', uf: 'SP', ddd: 12, population: 311_000 },
  { name: 'Suzano', uf: 'SP', ddd: 11, population: 307_000 },
  { name: 'Limeira', uf: 'SP', ddd: 19, population: 292_000 },
  { name: 'Guarujá', uf: 'SP', ddd: 13, population: 288_000 },
  // Rio de Janeiro
  { name: 'Rio de Janeiro', uf: 'RJ', ddd: 21, population: 6_211_000 },
  { name: 'São Gonçalo', uf: 'RJ', ddd: 21, population: 897_000 },
  { name: 'Duque de Caxias', uf: 'RJ', ddd: 21, population: 808_000 },
  { name: 'Nova Iguaçu', uf: 'RJ', ddd: 21, population: 786_000 },
  { name: 'Campos dos Goytacazes', uf: 'RJ', ddd: 22, population: 484_000 },
  { name: 'Belford Roxo', uf: 'RJ', ddd: 21, population: 483_000 },
  { name: 'Niterói', uf: 'RJ', ddd: 21, population: 482_000 },
  { name: 'São João de Meriti', uf: 'RJ', ddd: 21, population: 441_000 },
  { name: 'Petrópolis', uf: 'RJ', ddd: 24, population: 279_000 },
  { name: 'Volta Redonda', uf: 'RJ', ddd: 24, population: 262_000 },
  { name: 'Macaé', uf: 'RJ', ddd: 22, population: 246_000 },
  // Minas Gerais
  { name: 'Belo Horizonte', uf: 'MG', ddd: 31, population: 2_316_000 },
  { name: 'Uberlândia', uf: 'MG', ddd: 34, population: 713_000 },
  { name: 'Contagem', uf: 'MG', ddd: 31, population: 622_000 },
  { name: 'Juiz de Fora', uf: 'MG', ddd: 32, population: 541_000 },
  { name: 'Montes Claros', uf: 'MG', ddd: 38, population: 414_000 },
  { name: 'Betim', uf: 'MG', ddd: 31, population: 412_000 },
  { name: 'Uberaba', uf: 'MG', ddd: 34, population: 338_000 },
  { name: 'Ribeirão das Neves', uf: 'MG', ddd: 31, population: 330_000 },
  { name: 'Governador Valadares', uf: 'MG', ddd: 33, population: 257_000 },
  { name: 'Ipatinga', uf: 'MG', ddd: 31, population: 228_000 },
  // Espírito Santo
  { name: 'Serra', uf: 'ES', ddd: 27, population: 521_000 },
  { name: 'Vila Velha', uf: 'ES', ddd: 27, population: 468_000 },
  { name: 'Cariacica', uf: 'ES', ddd: 27, population: 353_000 },
  { name: 'Vitória', uf: 'ES', ddd: 27, population: 323_000 },
  { name: 'Cachoeiro de Itapemirim', uf: 'ES', ddd: 28, population: 186_000 },
  // Bahia
  { name: 'Salvador', uf: 'BA', ddd: 71, population: 2_418_000 },
  { name: 'Feira de Santana', uf: 'BA', ddd: 75, population: 616_000 },
  { name: 'Vitória da Conquista', uf: 'BA', ddd: 77, population: 371_000 },
  { name: 'Camaçari', uf: 'BA', ddd: 71, population: 300_000 },
  { name: 'Juazeiro', uf: 'BA', ddd: 74, population: 238_000 },
  { name: 'Lauro de Freitas', uf: 'BA', ddd: 71, population: 203_000 },
  { name: 'Itabuna', uf: 'BA', ddd: 73, population: 187_000 },
  // Sergipe
  { name: 'Aracaju', uf: 'SE', ddd: 79, population: 603_000 },
  { name: 'Nossa Senhora do Socorro', uf: 'SE', ddd: 79, population: 192_000 },
  // Alagoas
  { name: 'Maceió', uf: 'AL', ddd: 82, population: 958_000 },
  { name: 'Arapiraca', uf: 'AL', ddd: 82, population: 235_000 },
  // Pernambuco
  { name: 'Recife', uf: 'PE', ddd: 81, population: 1_489_000 },
  { name: 'Jaboatão dos Guararapes', uf: 'PE', ddd: 81, population: 644_000 },
  { name: 'Petrolina', uf: 'PE', ddd: 87, population: 387_000 },
  { name: 'Caruaru', uf: 'PE', ddd: 81, population: 378_000 },
  { name: 'Olinda', uf: 'PE', ddd: 81, population: 350_000 },
  { name: 'Paulista', uf: 'PE', ddd: 81, population: 342_000 },
  // Paraíba
  { name: 'João Pessoa', uf: 'PB', ddd: 83, population: 834_000 },
  { name: 'Campina Grande', uf: 'PB', ddd: 83, population: 419_000 },
  { name: 'Santa Rita', uf: 'PB', ddd: 83, population: 150_000 },
  // Rio Grande do Norte
  { name: 'Natal', uf: 'RN', ddd: 84, population: 751_000 },
  { name: 'Mossoró', uf: 'RN', ddd: 84, population: 265_000 },
  { name: 'Parnamirim', uf: 'RN', ddd: 84, population: 253_000 },
  // Ceará
  { name: 'Fortaleza', uf: 'CE', ddd: 85, population: 2_429_000 },
  { name: 'Caucaia', uf: 'CE', ddd: 85, population: 356_000 },
  { name: 'Juazeiro do Norte', uf: 'CE', ddd: 88, population: 286_000 },
  { name: 'Maracanaú', uf: 'CE', ddd: 85, population: 234_000 },
  { name: 'Sobral', uf: 'CE', ddd: 88, population: 203_000 },
  // Piauí
  { name: 'Teresina', uf: 'PI', ddd: 86, population: 866_000 },
  { name: 'Parnaíba', uf: 'PI', ddd: 86, population: 162_000 },
  // Maranhão
  { name: 'São Luís', uf: 'MA', ddd: 98, population: 1_038_000 },
  { name: 'Imperatriz', uf: 'MA', ddd: 99, population: 273_000 },
  { name: 'São José de Ribamar', uf: 'MA', ddd: 98, population: 245_000 },
  { name: 'Timon', uf: 'MA', ddd: 99, population: 174_000 },
  // Pará
  { name: 'Belém', uf: 'PA', ddd: 91, population: 1_303_000 },
  { name: 'Ananindeua', uf: 'PA', ddd: 91, population: 479_000 },
  { name: 'Santarém', uf: 'PA', ddd: 93, population: 332_000 },
  { name: 'Parauapebas', uf: 'PA', ddd: 94, population: 268_000 },
  { name: 'Marabá', uf: 'PA', ddd: 94, population: 267_000 },
  { name: 'Castanhal', uf: 'PA', ddd: 91, population: 192_000 },
  // Amapá
  { name: 'Macapá', uf: 'AP', ddd: 96, population: 443_000 },
  { name: 'Santana', uf: 'AP', ddd: 96, population: 108_000 },
  // Amazonas
  { name: 'Manaus', uf: 'AM', ddd: 92, population: 2_064_000 },
  { name: 'Itacoatiara', uf: 'AM', ddd: 92, population: 104_000 },
  { name: 'Parintins', uf: 'AM', ddd: 92, population: 96_000 },
  // Roraima
  { name: 'Boa Vista', uf: 'RR', ddd: 95, population: 413_000 },
  { name: 'Rorainópolis', uf: 'RR', ddd: 95, population: 31_000 },
  // Acre
  { name: 'Rio Branco', uf: 'AC', ddd: 68, population: 365_000 },
  { name: 'Cruzeiro do Sul', uf: 'AC', ddd: 68, population: 92_000 },
  // Distrito Federal
  { name: 'Brasília', uf: 'DF', ddd: 61, population: 2_817_000 },
  // Goiás
  { name: 'Goiânia', uf: 'GO', ddd: 62, population: 1_437_000 },
  { name: 'Aparecida de Goiânia', uf: 'GO', ddd: 62, population: 528_000 },
  { name: 'Anápolis', uf: 'GO', ddd: 62, population: 399_000 },
  { name: 'Rio Verde', uf: 'GO', ddd: 64, population: 226_000 },
  { name: 'Águas Lindas de Goiás', uf: 'GO', ddd: 61, population: 226_000 },
  { name: 'Luziânia', uf: 'GO', ddd: 61, population: 209_000 },
  // Tocantins
  { name: 'Palmas', uf: 'TO', ddd: 63, population: 303_000 },
  { name: 'Araguaína', uf: 'TO', ddd: 63, population: 171_000 },
  { name: 'Gurupi', uf: 'TO', ddd: 63, population: 85_000 },
  // Mato Grosso
  { name: 'Cuiabá', uf: 'MT', ddd: 65, population: 651_000 },
  { name: 'Várzea Grande', uf: 'MT', ddd: 65, population: 300_000 },
  { name: 'Rondonópolis', uf: 'MT', ddd: 66, population: 245_000 },
  { name: 'Sinop', uf: 'MT', ddd: 66, population: 196_000 },
  // Rondônia
  { name: 'Porto Velho', uf: 'RO', ddd: 69, population: 460_000 },
  { name: 'Ji-Paraná', uf: 'RO', ddd: 69, population: 124_000 },
  { name: 'Ariquemes', uf: 'RO', ddd: 69, population: 97_000 },
  // Mato Grosso do Sul
  { name: 'Campo Grande', uf: 'MS', ddd: 67, population: 898_000 },
  { name: 'Dourados', uf: 'MS', ddd: 67, population: 243_000 },
  { name: 'Três Lagoas', uf: 'MS', ddd: 67, population: 132_000 },
  // Paraná
  { name: 'Curitiba', uf: 'PR', ddd: 41, population: 1_774_000 },
  { name: 'Londrina', uf: 'PR', ddd: 43, population: 556_000 },
  { name: 'Maringá', uf: 'PR', ddd: 44, population: 410_000 },
  { name: 'Ponta Grossa', uf: 'PR', ddd: 42, population: 358_000 },
  { name: 'Cascavel', uf: 'PR', ddd: 45, population: 348_000 },
  { name: 'São José dos Pinhais', uf: 'PR', ddd: 41, population: 329_000 },
  { name: 'Foz do Iguaçu', uf: 'PR', ddd: 45, population: 285_000 },
  { name: 'Colombo', uf: 'PR', ddd: 41, population: 232_000 },
  // Santa Catarina
  { name: 'Joinville', uf: 'SC', ddd: 47, population: 616_000 },
  { name: 'Florianópolis', uf: 'SC', ddd: 48, population: 537_000 },
  { name: 'Blumenau', uf: 'SC', ddd: 47, population: 361_000 },
  { name: 'São José', uf: 'SC', ddd: 48, population: 270_000 },
  { name: 'Itajaí', uf: 'SC', ddd: 47, population: 264_000 },
  { name: 'Chapecó', uf: 'SC', ddd: 49, population: 255_000 },
  { name: 'Palhoça', uf: 'SC', ddd: 48, population: 223_000 },
  { name: 'Criciúma', uf: 'SC', ddd: 48, population: 214_000 },
  // Rio Grande do Sul
  { name: 'Porto Alegre', uf: 'RS', ddd: 51, population: 1_333_000 },
  { name: 'Caxias do Sul', uf: 'RS', ddd: 54, population: 463_000 },
  { name: 'Canoas', uf: 'RS', ddd: 51, population: 348_000 },
  { name: 'Pelotas', uf: 'RS', ddd: 53, population: 326_000 },
  { name: 'Santa Maria', uf: 'RS', ddd: 55, population: 272_000 },
  { name: 'Gravataí', uf: 'RS', ddd: 51, population: 265_000 },
  { name: 'Novo Hamburgo', uf: 'RS', ddd: 51, population: 228_000 },
  { name: 'Viamão', uf: 'RS', ddd: 51, population: 224_000 },
  { name: 'Passo Fundo', uf: 'RS', ddd: 54, population: 206_000 },
];

const statesByUf = new Map(BR_STATES.map((state) => [state.uf, state]));

/** The state of a UF code; throws on an unknown code (a bug in the tables). */
export function brState(uf: string): BrState {
  const state = statesByUf.get(uf);
  if (!state) throw new Error(`unknown UF ${uf}`);
  return state;
}

/** Whether the first five digits of a CEP fall in the UF's Correios ranges. */
export function isCepInState(cep: string, uf: string): boolean {
  const prefix = Number(cep.replace(/\D/g, '').slice(0, 5));
  return brState(uf).cepRanges.some(([low, high]) => prefix >= low && prefix <= high);
}
