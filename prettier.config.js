// Prettier: the one formatter (`npm run format` writes, `npm run lint` checks).
/** @type {import('prettier').Config} */
export default {
  printWidth: 120,
  singleQuote: true,
};
