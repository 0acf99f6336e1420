/** Every text a partner reads, per locale: one catalogue file per locale beside this one. */
export interface Messages {
  reportTitle: Record<string, string>;
  /** "dados de 01/12/2026 atualizados" */
  subjectUpdated(periods: string): string;
  sandboxTag: string;
  greeting(partner: string): string;
  intro(count: number): string;
  metric: { units: string; revenue: string; orders: string; customers: string; avg_ticket: string };
  vsPrevious: { day: string; month: string };
  vsBefore: { month: string; year: string };
  noComparison: string;
  whatChanged: string;
  /** Sentences of "o que mudou"; values already formatted. */
  sentence: {
    metricChange(metric: 'units' | 'revenue' | 'avg_ticket', direction: 'up' | 'down' | 'flat', change: string, against: string): string;
    share(segment: string, share: string, pointsChange: string | null, against: string): string;
    price(segment: string, partnerPrice: string, segmentPrice: string, index: string, above: boolean): string;
    topCity(city: string, share: string): string;
    growingCity(city: string, change: string): string;
    growingProduct(product: string, change: string): string;
    topState(state: string, share: string): string;
    noHistory: string;
  };
  against: { previousDay: string; previousMonth: string; monthBefore: string; yearBefore: string };
  sections: {
    headline: string;
    trend: string;
    share: string;
    price: string;
    topCities: string;
    growingCities: string;
    topProducts: string;
    growingProducts: string;
    states: string;
    dictionary: string;
    delivery: string;
    files: string;
    privacy: string;
  };
  columns: {
    figure: string;
    value: string;
    city: string;
    product: string;
    state: string;
    segment: string;
    units: string;
    revenue: string;
    share: string;
    change: string;
    partnerPrice: string;
    segmentPrice: string;
    difference: string;
    file: string;
    size: string;
    destination: string;
    where: string;
    column: string;
    meaning: string;
    type: string;
    unit: string;
    timeZone: string;
    allowed: string;
    privacyRule: string;
    rank: string;
  };
  chart: { units: string; shareUnits(segment: string): string; topCities: string; states: string };
  delivered(destination: string, type: string, where: string): string;
  notDelivered(destination: string, type: string, reason: string): string;
  noDestination: string;
  privacySentence(k: number, merged: string, suppressed: string): string;
  privacyDaily(k: number): string;
  withheld(units: string, revenue: string): string;
  totalsNote: string;
  partialPeriod(present: number, expected: number): string;
  attachedFiles(files: string): string;
  notAttached(files: string): string;
  checksumsNote: string;
  insightsNote: string;
  footer(runId: string): string;
  nothingYet: string;
  dictionaryIntro: string;
  pageTitle(report: string, period: string): string;
  generatedFrom: string;
}
