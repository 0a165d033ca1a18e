import { reportStartupFailure, runAgent } from './agent.js';

runAgent(process.env).catch(reportStartupFailure);
