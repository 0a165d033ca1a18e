import { DEFAULT_ENTERPRISE_ID, elementDocumentJson, elementDocumentMarkdown } from '../../adapters/ipfix/information-elements.doc.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { parseOptions } from '../run-cli.js';

/** Prints the element table (docs/ipfix-elements.*), e.g. to feed a collector's definition file. */
export const ipfixElementsCommand: CliCommand = {
  name: 'ipfix-elements',
  summary: 'print the IPFIX information elements we export (JSON or Markdown)',
  usage: 'k8s-flow-exporter ipfix-elements [--format json|markdown] [--enterprise-id N]',
  async run(args, io) {
    const values = parseOptions(args, { format: { type: 'string', default: 'json' }, 'enterprise-id': { type: 'string' } });
    const enterpriseId = values['enterprise-id'] === undefined ? DEFAULT_ENTERPRISE_ID : Number(values['enterprise-id']);
    if (!Number.isInteger(enterpriseId) || enterpriseId < 1 || enterpriseId > 2 ** 32 - 1) throw new UsageError('--enterprise-id must be an integer from 1 to 4294967295');
    if (values.format === 'json') io.out(elementDocumentJson(enterpriseId).trimEnd());
    else if (values.format === 'markdown') io.out(elementDocumentMarkdown(enterpriseId).trimEnd());
    else throw new UsageError('--format must be json or markdown');
    return 0;
  },
};
