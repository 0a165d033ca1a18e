#!/usr/bin/env node
// Builds the capture addon: the BPF object (clang), its skeleton header (bpftool,
// which embeds the object so the .node file carries the program), then the N-API
// addon (node-gyp in native/). Generated files stay in bpf/build and native/build.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bpfDir = path.join(root, 'bpf');
const bpfBuild = path.join(bpfDir, 'build');
const nativeDir = path.join(root, 'native');

function run(command, args, options = {}) {
  console.log(`> ${command} ${args.join(' ')}`);
  execFileSync(command, args, { stdio: 'inherit', ...options });
}

// Where the UAPI asm/ headers live for this machine's multiarch triplet.
function multiarchIncludeDir() {
  const triplet = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim() || 'x86_64-linux-gnu';
  return `/usr/include/${triplet}`;
}

fs.mkdirSync(bpfBuild, { recursive: true });
const object = path.join(bpfBuild, 'flow_capture.bpf.o');
// -mcpu=v3: atomic OR on u32 (TCP flags).
run('clang', ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', '-mcpu=v3', `-I${multiarchIncludeDir()}`,
  '-c', path.join(bpfDir, 'flow_capture.bpf.c'), '-o', object]);
const skeleton = execFileSync('bpftool', ['gen', 'skeleton', object, 'name', 'flow_capture'], { maxBuffer: 64 << 20 });
fs.writeFileSync(path.join(bpfBuild, 'flow_capture.skel.h'), skeleton);
console.log(`> wrote ${path.relative(root, path.join(bpfBuild, 'flow_capture.skel.h'))}`);

// node-gyp needs Node's headers: npm_config_nodedir (set by the Makefile) or this Node's own prefix.
const nodedir = process.env.npm_config_nodedir || path.resolve(process.execPath, '..', '..');
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
run(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: nativeDir,
  env: { ...process.env, npm_config_nodedir: nodedir },
});
