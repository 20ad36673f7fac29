/**
 * The command line's synthesis flags, read from the engine's method registry: one flag per setting
 * any method takes (`--steps`, `--scale`, `--set-size`, ...), its help naming each method's default,
 * its value checked against the setting's kind. Ranges are checked by the engine for the method run.
 */
import { type Command, Option } from 'commander';
import { METHODS, METHOD_NAMES, type MethodSettings, type SettingName, type SettingSpec, defaultLabel } from '@excite/engine';
import { finiteNumber, integer } from './number-options.ts';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function parser(flag: string, spec: SettingSpec): (v: string) => unknown {
  if (spec.kind === 'choice') return (v) => v;
  return spec.kind === 'integer' ? integer(flag) : finiteNumber(flag);
}

/** Every setting of every method, each with the methods that take it. */
function settingsByName(): Map<SettingName, { spec: SettingSpec; descriptions: Set<string>; methods: string[] }> {
  const out = new Map<SettingName, { spec: SettingSpec; descriptions: Set<string>; methods: string[] }>();
  for (const method of METHODS.values())
    for (const [name, spec] of Object.entries(method.settings) as [SettingName, SettingSpec][]) {
      const entry = out.get(name) ?? { spec, descriptions: new Set(), methods: [] };
      entry.descriptions.add(spec.description);
      entry.methods.push(`${method.name} ${defaultLabel(spec) ?? 'auto'}`);
      out.set(name, entry);
    }
  return out;
}

export const methodOption = () => new Option('--method <method>', 'synthesis method').choices(METHOD_NAMES).makeOptionMandatory();

/** Adds a flag for each setting to a command. */
export function addSettingOptions(command: Command): Command {
  for (const [name, { spec, descriptions, methods }] of settingsByName()) {
    const flag = `--${kebab(name)}`;
    const option = new Option(`${flag} <${spec.kind === 'choice' ? 'name' : 'value'}>`, `${[...descriptions].join('; ')} (default: ${methods.join(', ')})`);
    if (spec.kind === 'choice') option.choices(spec.choices);
    else option.argParser(parser(flag, spec));
    command.addOption(option);
  }
  return command;
}

/** The settings among a command's parsed options. */
export function settingsOf(options: Record<string, unknown>): MethodSettings {
  return Object.fromEntries([...settingsByName().keys()].map((name) => [name, options[name]]).filter(([, v]) => v !== undefined));
}
