/**
 * `command` workloads without a lab: how a command line is split and its variables
 * filled in, how a scenario naming programs is refused without --allow-commands, and
 * (validate on its keys: test/scenario/fixtures/broken/command-*.yaml).
 */
import { describe, expect, it } from 'vitest';
import { expandVariables, programPath } from '../../src/run/commands.js';
import { splitCommandLine } from '../../src/scenario/protocols/command.js';

describe('command lines', () => {
  it('split on spaces, quotes group, no shell', () => {
    expect(splitCommandLine(`curl -s 'http://a b/' --data "x y" ; rm`)).toEqual([
      'curl',
      '-s',
      'http://a b/',
      '--data',
      'x y',
      ';',
      'rm',
    ]);
    expect(splitCommandLine(`prog --name='a b'c`)).toEqual(['prog', '--name=a bc']);
  });

  it('fill in the variables they are given and leave others alone', () => {
    const env = { QOSLAB_HOST: 'chat.lab', QOSLAB_PORT: '5222' };
    expect(expandVariables('$QOSLAB_HOST:${QOSLAB_PORT}/$HOME/$QOSLAB_NOPE', env)).toBe(
      'chat.lab:5222/$HOME/$QOSLAB_NOPE',
    );
  });

  it('resolve a program with a slash against the scenario folder, a bare name on PATH', () => {
    expect(programPath('./client.py', '/s')).toBe('/s/client.py');
    expect(programPath('/usr/bin/env', '/s')).toBe('/usr/bin/env');
    expect(programPath('mosquitto', '/s')).toBe('mosquitto');
  });
});
