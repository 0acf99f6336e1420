import { fakerPT_BR, type Faker } from '@faker-js/faker';
import { BR_CITIES, brState } from './br-cities.js';

/** The first instant a synthetic customer can exist: the simulated marketplace opened then. */
export const SYNTHETIC_HISTORY_START = '2020-01-01';
/** From this day on the whole `--customers` base exists; before it, the base is smaller. */
export const SYNTHETIC_BASE_COMPLETE = '2026-01-01';

/** One customer of the synthetic base, with its fields as bronze writes them (clean). */
export interface SyntheticCustomer {
  /** 0-based position in signup order. */
  index: number;
  /** 'C0000001' for the first to sign up. */
  customerId: string;
  name: string;
  email: string;
  /** 'NNN.NNN.NNN-NN' with valid check digits. */
  cpf: string;
  /** '+55 11 9XXXX-XXXX' or '(11) 9XXXX-XXXX'. */
  phone: string;
  /** Area code and the nine-digit mobile number, for the dirty phone formats. */
  ddd: string;
  mobile: string;
  /** 'NNNNN-NNN' in the Correios range of the customer's UF. */
  cep: string;
  city: string;
  state: string;
  /** Index into BR_CITIES. */
  cityIndex: number;
  /** Signup time, ISO with the São Paulo offset (-03:00; Brazil has no DST since 2019). */
  createdAt: string;
  /** Signup time as Unix seconds. */
  createdEpoch: number;
}

const SAO_PAULO_OFFSET_SECONDS = 3 * 3600;

const emailDomains: ReadonlyArray<{ value: string; weight: number }> = [
  { value: 'gmail.com', weight: 50 },
  { value: 'hotmail.com', weight: 18 },
  { value: 'outlook.com', weight: 9 },
  { value: 'yahoo.com.br', weight: 8 },
  { value: 'uol.com.br', weight: 5 },
  { value: 'bol.com.br', weight: 4 },
  { value: 'icloud.com', weight: 3 },
  { value: 'terra.com.br', weight: 3 },
];

/** CPF check digits (Receita Federal modulo-11 rule) for the first nine digits. */
export function cpfCheckDigits(base: string): string {
  const digits = [...base].map(Number);
  const first = checkDigit(digits, 10);
  const second = checkDigit([...digits, first], 11);
  return `${first}${second}`;
}

function checkDigit(digits: number[], startWeight: number): number {
  const sum = digits.reduce((total, digit, index) => total + digit * (startWeight - index), 0);
  const rest = (sum * 10) % 11;
  return rest === 10 ? 0 : rest;
}

/** 'NNN.NNN.NNN-NN' from eleven digits. */
export function formatCpf(digits: string): string {
  return `${digits.slice(0, 3)}.${digits.slice(3, 6)}.${digits.slice(6, 9)}-${digits.slice(9)}`;
}

function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

/** ISO text of a Unix time in São Paulo, e.g. '2024-05-03T14:22:11-03:00'. */
export function saoPauloIso(epochSeconds: number): string {
  return `${new Date((epochSeconds - SAO_PAULO_OFFSET_SECONDS) * 1000).toISOString().slice(0, 19)}-03:00`;
}

/** Unix seconds of midnight starting a São Paulo calendar day. */
export function saoPauloDayStart(day: string): number {
  return Date.parse(`${day}T00:00:00-03:00`) / 1000;
}

function cumulative(weights: readonly number[]): number[] {
  let total = 0;
  const sums = weights.map((weight) => (total += weight));
  return sums.map((sum) => sum / total);
}

function pickIndex(cumulativeShares: readonly number[], u: number): number {
  let low = 0;
  let high = cumulativeShares.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (u < cumulativeShares[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * The customer base: `count` people with pt_BR names, valid CPFs, and a city drawn in
 * proportion to population, signing up between SYNTHETIC_HISTORY_START and
 * SYNTHETIC_BASE_COMPLETE at a growing pace. Ids follow signup order. Deterministic for
 * (count, seed); it is small (faker in JS is fine), the facts are generated in SQL.
 */
export function buildCustomerBase(count: number, seed: number): SyntheticCustomer[] {
  const faker: Faker = fakerPT_BR;
  faker.seed(seed);
  const cityShares = cumulative(BR_CITIES.map((city) => city.population));
  const domainShares = cumulative(emailDomains.map((domain) => domain.weight));
  const start = saoPauloDayStart(SYNTHETIC_HISTORY_START);
  const span = saoPauloDayStart(SYNTHETIC_BASE_COMPLETE) - start;
  // Drawing from the locale's lists directly: person.lastName() goes through a template
  // engine and costs ten times more, which shows at 100,000 customers.
  const definitions = faker.rawDefinitions.person as { first_name?: { female?: string[]; male?: string[] }; last_name?: { generic?: string[] } } | undefined;
  // A plain copy: the locale data sits behind proxies that make every element read slow.
  const lastNameList = definitions?.last_name?.generic ? [...definitions.last_name.generic] : undefined;
  const lastName = () => (lastNameList ? faker.helpers.arrayElement(lastNameList) : faker.person.lastName());
  const digits = (length: number) => String(faker.number.int({ min: 0, max: 10 ** length - 1 })).padStart(length, '0');
  // Signup times first, sorted, so that ids follow signup order without sorting people.
  // sqrt: signups grow over time, as a young marketplace's do.
  const signups = new Float64Array(count);
  for (let n = 0; n < count; n++) signups[n] = Math.sqrt(faker.number.float());
  signups.sort();
  const emails = new Set<string>();
  const customers: SyntheticCustomer[] = [];
  for (let n = 0; n < count; n++) {
    const cityIndex = pickIndex(cityShares, faker.number.float());
    const city = BR_CITIES[cityIndex]!;
    const sex = faker.helpers.arrayElement(['female', 'male'] as const);
    const firstName = faker.person.firstName(sex);
    const lastNames = faker.number.float() < 0.4 ? [lastName(), lastName()] : [lastName()];
    const name = [firstName, ...lastNames].join(' ');

    const local = [slug(firstName), slug(lastNames.at(-1)!)].join(faker.helpers.arrayElement(['.', '_', '', '.']));
    const domain = emailDomains[pickIndex(domainShares, faker.number.float())]!.value;
    let email = `${local}${faker.number.float() < 0.35 ? faker.number.int({ min: 1, max: 99 }) : ''}@${domain}`;
    while (emails.has(email)) email = `${local}${faker.number.int({ min: 100, max: 99999 })}@${domain}`;
    emails.add(email);

    let base = digits(9);
    // A CPF made of one repeated digit passes the modulo-11 test but is invalid by rule.
    while (/^(\d)\1{8}$/.test(base)) base = digits(9);
    const cpf = formatCpf(base + cpfCheckDigits(base));

    const ddd = String(city.ddd);
    const mobile = `9${faker.number.int({ min: 6, max: 9 })}${digits(7)}`;
    const phone = faker.number.float() < 0.7 ? `+55 ${ddd} ${mobile.slice(0, 5)}-${mobile.slice(5)}` : `(${ddd}) ${mobile.slice(0, 5)}-${mobile.slice(5)}`;

    const ranges = brState(city.uf).cepRanges;
    const [low, high] = ranges[faker.number.int({ min: 0, max: ranges.length - 1 })]!;
    const prefix = faker.number.int({ min: low, max: high });
    const cep = `${String(prefix).padStart(5, '0')}-${String(faker.number.int({ min: 0, max: 899 })).padStart(3, '0')}`;

    const createdEpoch = start + Math.floor(signups[n]! * span);
    customers.push({
      index: n,
      customerId: `C${String(n + 1).padStart(7, '0')}`,
      name, email, cpf, phone, ddd, mobile, cep,
      city: city.name,
      state: city.uf,
      cityIndex,
      createdAt: saoPauloIso(createdEpoch),
      createdEpoch,
    });
  }
  return customers;
}
