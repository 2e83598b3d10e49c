// Hardhat 2 as an external chain for ReelLedger (`hardhat node --config tests/external/hardhat.config.js`).
// Cancun, chain id 31337, ten accounts from Hardhat's well-known development mnemonic, each with 10,000 ETH:
// give the service one of their keys as REELLEDGER_SIGNER_KEY. Development only: the keys are public.
// Hardhat compiles nothing here (`paths.sources` holds no Solidity); ReelLedger deploys its own compiled contracts.
module.exports = {
  networks: {
    hardhat: {
      hardfork: "cancun",
      chainId: 31337,
      accounts: {
        mnemonic: "test test test test test test test test test test test junk",
        count: 10,
        accountsBalance: "10000000000000000000000",
      },
    },
  },
  paths: { sources: "./no-sources", cache: "./.hardhat-cache", artifacts: "./.hardhat-artifacts" },
};
