import { getPriority } from 'node:os'
import { parentPort } from 'node:worker_threads'

// Reports the nice value this thread runs at.
parentPort?.postMessage(getPriority())
