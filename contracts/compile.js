#!/usr/bin/env node
// Compiles contracts/src/*.sol with solc-js (pinned in package.json) and OpenZeppelin from
// node_modules into layers/common/streamvault/chain/build/<Name>.json (abi, bytecode, compiler settings).
//   node contracts/compile.js          write the build files
//   node contracts/compile.js --check  exit 1 if the committed build files differ from a fresh compile
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(__dirname, 'src');
// Inside the shared package: the Lambda layer ships the ABI with the code that uses it.
const BUILD = path.join(ROOT, 'layers', 'common', 'streamvault', 'chain', 'build');
const SETTINGS = {
  optimizer: { enabled: true, runs: 10000 },
  evmVersion: 'paris', // Filecoin's FEVM has no PUSH0 (Shanghai) nor transient storage (Cancun)
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

function findImport(importPath) {
  const file = path.join(ROOT, 'node_modules', importPath);
  return fs.existsSync(file) ? { contents: fs.readFileSync(file, 'utf8') } : { error: `not found: ${importPath}` };
}

function compile() {
  const sources = {};
  for (const name of fs.readdirSync(SRC).filter((f) => f.endsWith('.sol')).sort()) {
    sources[name] = { content: fs.readFileSync(path.join(SRC, name), 'utf8') };
  }
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) {
    throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  }
  const artifacts = {};
  for (const source of Object.keys(sources)) {
    for (const [name, contract] of Object.entries(output.contracts[source])) {
      if (!contract.evm.bytecode.object) continue; // interfaces: nothing to deploy, their ABI is in the contracts'
      artifacts[name] = JSON.stringify({
        contractName: name,
        sourceName: `contracts/src/${source}`,
        compiler: { version: solc.version(), settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion } },
        abi: contract.abi,
        bytecode: '0x' + contract.evm.bytecode.object,
        deployedBytecode: '0x' + contract.evm.deployedBytecode.object,
      }, null, 2) + '\n';
    }
  }
  return artifacts;
}

function main() {
  const check = process.argv.includes('--check');
  const artifacts = compile();
  let drift = false;
  for (const [name, text] of Object.entries(artifacts)) {
    const file = path.join(BUILD, `${name}.json`);
    if (check) {
      if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
        console.error(`drift: ${path.relative(ROOT, file)} differs from a fresh compile (run node contracts/compile.js)`);
        drift = true;
      }
    } else {
      fs.mkdirSync(BUILD, { recursive: true });
      fs.writeFileSync(file, text);
      console.log(`wrote ${path.relative(ROOT, file)}`);
    }
  }
  process.exit(drift ? 1 : 0);
}

main();
