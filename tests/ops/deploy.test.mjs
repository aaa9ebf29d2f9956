// The deploy kit: example configs, Prometheus config and rules, the NATS
// server config, the Grafana dashboard and the systemd units.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '..', '..');
const deploy = path.join(root, 'deploy');
const build = process.env.LECTERN_BUILD_DIR || path.join(root, 'build');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'pipe', ...opts }).toString();

test('example configs pass --check-config', () => {
  run(path.join(build, 'origin', 'lectern-origin'), ['--check-config', '-c', path.join(deploy, 'origin.yaml')]);
  run(path.join(build, 'edge', 'lectern-edge'), ['--check-config', '-c', path.join(deploy, 'edge.yaml')]);
});

test('promtool accepts the Prometheus config and the alert rules', () => {
  assert.match(run('promtool', ['check', 'config', path.join(deploy, 'prometheus', 'prometheus.yml')]), /SUCCESS/);
  assert.match(run('promtool', ['check', 'rules', path.join(deploy, 'prometheus', 'alerts.yml')]), /SUCCESS: 12 rules found/);
});

test('alert rules and the dashboard use only metrics Lectern exports', () => {
  // Names Lectern registers today (read from its sources: this test reads
  // nothing outside the repository).
  const source = readdirSync(path.join(root, 'common'), { recursive: true })
    .filter((f) => f.endsWith('.c')).map((f) => readFileSync(path.join(root, 'common', f), 'utf8')).join('\n');
  const exported = new Set([...source.matchAll(/"(lectern_[a-z_]+|process_[a-z_]+)/g)].map((m) => m[1]));
  const known = new Set([...exported, 'up']);
  const strip = (n) => n.replace(/_(bucket|sum|count)$/, '');
  const dash = JSON.parse(readFileSync(path.join(deploy, 'grafana', 'lectern-dashboard.json'), 'utf8'));
  assert.equal(dash.uid, 'lectern-overview');
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
  exprs.push(readFileSync(path.join(deploy, 'prometheus', 'alerts.yml'), 'utf8'));
  const unknown = new Set();
  for (const e of exprs)
    for (const m of e.matchAll(/\b((?:lectern|process)_[a-z_]+)\b/g))
      if (!known.has(m[1]) && !known.has(strip(m[1]))) unknown.add(m[1]);
  assert.deepEqual([...unknown], []);
});

test('nats-server accepts the NATS config with its gateways and TLS', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lectern-nats-'));
  const openssl = (args) => run('openssl', args, { cwd: dir });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca-key.pem',
    '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server-key.pem',
    '-out', 'server.csr', '-subj', '/CN=nats']);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
    '-out', 'server.pem', '-days', '1']);
  const conf = readFileSync(path.join(deploy, 'nats', 'nats-server.conf'), 'utf8').replaceAll('/etc/nats/tls', dir);
  writeFileSync(path.join(dir, 'nats-server.conf'), conf);
  copyFileSync(path.join(deploy, 'nats', 'gateways.conf'), path.join(dir, 'gateways.conf'));
  const env = { ...process.env, NATS_SERVER_NAME: 'nats-1.eu-central-1', NATS_REGION: 'eu-central-1',
    NATS_ROUTE_1: 'nats-route://10.10.0.10:6222', NATS_ROUTE_2: 'nats-route://10.10.1.11:6222',
    NATS_ROUTE_3: 'nats-route://10.10.0.12:6222' };
  const r = spawnSync('nats-server', ['-t', '-c', path.join(dir, 'nats-server.conf')], { env });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(r.stderr.toString(), /is valid/);
});

test('systemd units: Type=notify, reload by SIGHUP, hardening, and the binaries they name', () => {
  for (const role of ['origin', 'edge']) {
    const unit = readFileSync(path.join(deploy, 'systemd', `lectern-${role}.service`), 'utf8');
    for (const line of ['Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID', 'NoNewPrivileges=yes',
      'ProtectSystem=strict', 'PrivateTmp=yes', 'RestrictAddressFamilies=', 'CapabilityBoundingSet=',
      'LimitNOFILE=', `ExecStart=/usr/local/bin/lectern-${role} --config /etc/lectern/${role}.yaml`])
      assert.ok(unit.includes(line), `lectern-${role}.service has ${line}`);
  }
});
