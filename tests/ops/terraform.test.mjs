// The part of `terraform validate` that can run here (no terraform, no
// AWS): every .tf parses (one file at a time, so errors carry true line
// numbers); every var., local., module., data. and resource reference is
// declared in its module; provider aliases exist; module sources,
// templatefile() and file() paths exist; modules hold no provider blocks;
// variables and outputs have descriptions; the example tfvars set only
// declared variables; and the node config template renders into configs
// that lectern itself accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'tests', 'package.json'));
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '..', '..');
const tfRoot = path.join(root, 'terraform');
const hcl = createRequire(path.join(root, 'tests', 'package.json'))('@cdktf/hcl2json');

const moduleDirs = [tfRoot, path.join(tfRoot, 'modules', 'region'), path.join(tfRoot, 'modules', 'nats')];

// Strips comments so references in them do not count (strings are kept).
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').split('\n')
    .map((l) => l.replace(/(^|\s)(#|\/\/).*$/, '')).join('\n');
}

async function loadModule(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.tf')).sort();
  assert.ok(files.length > 0, `${dir} has .tf files`);
  const m = { dir, files: {}, vars: new Set(), locals: new Set(), modules: {}, providers: new Set(),
    aliases: new Set(), resources: new Set(), data: new Set(), outputs: {}, variables: {} };
  for (const f of files) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    let json;
    try {
      json = await hcl.parse(f, text);
    } catch (e) {
      assert.fail(`${path.relative(root, dir)}/${f}: ${e}`);
    }
    m.files[f] = { text, json };
    for (const [name, decl] of Object.entries(json.variable || {})) {
      m.vars.add(name);
      m.variables[name] = decl[0];
    }
    for (const block of json.locals || []) for (const k of Object.keys(block)) m.locals.add(k);
    for (const [name, decl] of Object.entries(json.module || {})) m.modules[name] = decl[0];
    for (const [type, blocks] of Object.entries(json.provider || {})) {
      m.providers.add(type);
      for (const b of blocks) if (b.alias) m.aliases.add(`${type}.${b.alias}`);
    }
    for (const [type, named] of Object.entries(json.resource || {}))
      for (const n of Object.keys(named)) m.resources.add(`${type}.${n}`);
    for (const [type, named] of Object.entries(json.data || {}))
      for (const n of Object.keys(named)) m.data.add(`${type}.${n}`);
    for (const [name, decl] of Object.entries(json.output || {})) m.outputs[name] = decl[0];
  }
  return m;
}

function refs(text, re) {
  const out = [];
  const lines = stripComments(text).split('\n');
  lines.forEach((l, i) => { for (const mm of l.matchAll(re)) out.push({ name: mm[1], line: i + 1, what: mm[0] }); });
  return out;
}

const modules = await Promise.all(moduleDirs.map(loadModule));

for (const m of modules) {
  const rel = path.relative(root, m.dir) || '.';
  test(`${rel}: every reference is declared`, () => {
    const problems = [];
    for (const [f, { text }] of Object.entries(m.files)) {
      const where = (r) => `${rel}/${f}:${r.line}: ${r.what}`;
      for (const r of refs(text, /(?<![\w.-])var\.([A-Za-z_][\w-]*)/g)) if (!m.vars.has(r.name)) problems.push(`${where(r)}: no variable "${r.name}"`);
      for (const r of refs(text, /(?<![\w.-])local\.([A-Za-z_][\w-]*)/g)) if (!m.locals.has(r.name)) problems.push(`${where(r)}: no local "${r.name}"`);
      for (const r of refs(text, /(?<![\w.-])module\.([A-Za-z_][\w-]*)/g)) if (!(r.name in m.modules)) problems.push(`${where(r)}: no module "${r.name}"`);
      for (const r of refs(text, /(?<![\w.-])data\.([a-z0-9_]+\.[a-z0-9_]+)/g)) if (!m.data.has(r.name)) problems.push(`${where(r)}: no data source "${r.name}"`);
      for (const r of refs(text, /(?<![\w.])(aws_[a-z0-9_]+\.[a-z_][a-z0-9_]*)\b/g)) if (!m.resources.has(r.name)) problems.push(`${where(r)}: no resource "${r.name}"`);
      for (const r of refs(text, /(?:provider\s*=\s*|=\s*)(aws\.[a-z0-9_]+)\b/g)) if (!m.aliases.has(r.name)) problems.push(`${where(r)}: no provider alias "${r.name}"`);
    }
    assert.deepEqual(problems, []);
  });

  test(`${rel}: module sources, templatefile() and file() paths exist`, () => {
    const problems = [];
    for (const [name, decl] of Object.entries(m.modules)) {
      const src = path.resolve(m.dir, decl.source);
      if (!existsSync(src) || !statSync(src).isDirectory() || !readdirSync(src).some((f) => f.endsWith('.tf')))
        problems.push(`module "${name}": source ${decl.source} is not a module directory`);
    }
    for (const [f, { text }] of Object.entries(m.files))
      for (const r of refs(text, /(?:templatefile|file)\("\$\{path\.module\}\/([^"]+)"/g))
        if (!existsSync(path.resolve(m.dir, r.name))) problems.push(`${rel}/${f}:${r.line}: ${r.name} does not exist`);
    assert.deepEqual(problems, []);
  });

  test(`${rel}: variables and outputs are described; modules have no provider blocks`, () => {
    const problems = [];
    for (const [n, v] of Object.entries(m.variables)) if (!v.description) problems.push(`variable "${n}" has no description`);
    for (const [n, o] of Object.entries(m.outputs)) if (!o.description) problems.push(`output "${n}" has no description`);
    if (m.dir !== tfRoot && m.providers.size) problems.push(`provider blocks inside a module: ${[...m.providers]}`);
    assert.deepEqual(problems, []);
  });
}

test('module calls pass exactly the variables the module declares', () => {
  const root_ = modules[0];
  const byDir = Object.fromEntries(modules.map((m) => [m.dir, m]));
  const problems = [];
  for (const [name, decl] of Object.entries(root_.modules)) {
    const target = byDir[path.resolve(tfRoot, decl.source)];
    const passed = Object.keys(decl).filter((k) => !['source', 'count', 'for_each', 'providers', 'depends_on'].includes(k));
    for (const k of passed) if (!target.vars.has(k)) problems.push(`module "${name}" passes unknown "${k}"`);
    for (const [v, d] of Object.entries(target.variables))
      if (!('default' in d) && !passed.includes(v)) problems.push(`module "${name}" misses required "${v}"`);
    for (const p of Object.values(decl.providers?.[0] || decl.providers || {})) {
      const alias = String(p).replace(/^\$\{|\}$/g, '');
      if (!root_.aliases.has(alias)) problems.push(`module "${name}": provider ${alias} is not declared`);
    }
  }
  assert.deepEqual(problems, []);
});

test('examples/three-regions/terraform.tfvars sets only declared variables, and all required ones but secrets', async () => {
  const f = path.join(tfRoot, 'examples', 'three-regions', 'terraform.tfvars');
  const json = await hcl.parse('terraform.tfvars', readFileSync(f, 'utf8'));
  const root_ = modules[0];
  for (const k of Object.keys(json)) assert.ok(root_.vars.has(k), `tfvars sets undeclared "${k}"`);
  const secrets = ['tls_cert', 'tls_key', 'publish_tokens', 'admin_tokens'];
  for (const [v, d] of Object.entries(root_.variables))
    if (!('default' in d) && !secrets.includes(v)) assert.ok(v in json, `tfvars misses required "${v}"`);
});

test('the node config template renders into configs lectern accepts', () => {
  const build = process.env.LECTERN_BUILD_DIR || path.join(root, 'build');
  const tpl = readFileSync(path.join(tfRoot, 'modules', 'region', 'node.yaml.tftpl'), 'utf8');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lectern-tf-'));
  const regionsYaml = ['  - {name: eu-central-1, lat: 50.1, lon: 8.7}', '  - {name: us-east-1, lat: 39, lon: -77.5}',
    '  - {name: ap-southeast-2, lat: -33.9, lon: 151.2}'].join('\n');
  const cases = [
    { id: 'origin-eu-central-1-1', role: 'origin', region: 'eu-central-1', prewarm: 'us-east-1, ap-southeast-2',
      nats_creds_path: '/etc/lectern/nats.creds', origin_viewers: 'own_region', admin_tokens_file: '/etc/lectern/admin-tokens' },
    { id: 'edge-us-east-1-2', role: 'edge', region: 'us-east-1', prewarm: '', nats_creds_path: '',
      origin_viewers: 'never', admin_tokens_file: '' },
  ];
  for (const c of cases) {
    const vals = { ...c, public_url: `https://${c.id}.live.example.com`, public_ip: '203.0.113.7', vpc_cidr: '10.20.0.0/16',
      port_first: 20000, port_last: 29999, relay_port: 7000, nats_urls: 'tls://10.20.0.10:4222, tls://10.20.1.11:4222',
      regions_yaml: regionsYaml, trust_key: '1caaf176acd867af4eb89704126613b206f2b07ca1afeebbc4bf3bcb2ffe773c',
      domain: 'live.example.com' };
    const out = tpl.replace(/\$\{(\w+)\}/g, (_, k) => {
      assert.ok(k in vals, `template uses \${${k}} that the test does not set`);
      return String(vals[k]);
    });
    const file = path.join(dir, `${c.id}.yaml`);
    writeFileSync(file, out);
    execFileSync(path.join(build, c.role, `lectern-${c.role}`), ['--check-config', '-c', file], { stdio: 'pipe' });
  }
  // And every ${...} the module passes is one the template uses, and back.
  const main = readFileSync(path.join(tfRoot, 'modules', 'region', 'main.tf'), 'utf8');
  const block = main.slice(main.indexOf('node.yaml.tftpl'), main.indexOf('})', main.indexOf('node.yaml.tftpl')));
  const passed = [...block.matchAll(/^\s+(\w+)\s*=/gm)].map((x) => x[1]).sort();
  const used = [...new Set([...tpl.matchAll(/\$\{(\w+)\}/g)].map((x) => x[1]))].sort();
  assert.deepEqual(passed, used);
});
