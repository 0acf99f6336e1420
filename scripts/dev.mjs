// Runs the CLI from src/ without a build (needs the tsx dev dependency):
//   node --import tsx scripts/dev.mjs run --partner ouchhungry --sandbox
const { main } = await import('../src/cli.ts');
await main(process.argv);
