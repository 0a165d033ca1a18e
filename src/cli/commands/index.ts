import type { CliCommand } from '../cli-command.js';
import { collectCommand } from './collect.command.js';
import { ipfixElementsCommand } from './ipfix-elements.command.js';

/** Every subcommand; add new ones here. */
export const COMMANDS: readonly CliCommand[] = [collectCommand, ipfixElementsCommand];
