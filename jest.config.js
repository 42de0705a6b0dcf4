// Jest runs the TypeScript sources as native ES modules (run with
// --experimental-vm-modules, see package.json), transformed by swc.
/** @type {import('jest').Config} */
export default {
  testEnvironment: "node",
  setupFiles: ["<rootDir>/jest.setup.js"],
  extensionsToTreatAsEsm: [".ts"],
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript" }, target: "es2022" },
        module: { type: "es6" },
      },
    ],
  },
  // protoc-gen-es and our sources import siblings as "./x.js"; the file on disk is x.ts.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  testMatch: ["<rootDir>/{packages,services}/*/test/**/*.test.ts", "<rootDir>/tests/**/*.test.ts"],
  testTimeout: 60_000,
  maxWorkers: 2,
};
