#!/usr/bin/env node
/** `elsync` entry point: dispatch, then exit with the command's status. */
import { dispatch } from './dispatch.js'

process.exit(await dispatch(process.argv.slice(2)))
