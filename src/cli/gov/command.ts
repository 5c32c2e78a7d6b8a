import { Command, InvalidArgumentError, Option } from 'commander'
import { findNetworkParameter, networkParameters } from '../../chain/governance/parameters.ts'
import type { NetworkParameterName } from '../../chain/governance/parameters.ts'
import type { ParameterChange, ProposalInfo } from '../../chain/viem/createGovernanceClient.ts'
import { voteSupport } from '../../chain/governance/voteSupport.ts'
import type { VoteSupport } from '../../chain/governance/voteSupport.ts'
import { UsageError } from '../../core/errors.ts'
import type { CommandContext } from '../context.ts'
import type { ChainFlags, GovConnection } from './connect.ts'

/** Connects to the chain; viem loads here, when a command runs, not for --help. */
async function connect(flags: ChainFlags, context: CommandContext): Promise<GovConnection> {
  return (await import('./connect.ts')).connect(flags, context)
}

/** `veritask gov`: read the governed parameters, and propose, vote, queue and execute changes. */
export function govCommand(context: CommandContext): Command {
  const gov = new Command('gov')
    .description('Governance: the network parameters on-chain, changed by stake-weighted vote through a timelock.')
    .addHelpText(
      'after',
      [
        '',
        'Example (a proposal from start to end; writes sign with $VERITASK_KEY):',
        '  $ veritask gov params',
        '  $ veritask gov propose --set replicationK=5 --set replicationQuorum=3 --description "k = 5"',
        '  $ veritask gov vote <proposalId> for',
        '  $ veritask gov queue <proposalId>      # once the vote succeeded',
        '  $ veritask gov execute <proposalId>    # once the timelock delay passed',
        '  $ veritask gov status <proposalId> --json',
        '',
      ].join('\n'),
    )
  const withChain = (command: Command) =>
    command
      .addOption(new Option('--rpc-url <url>', 'the chain').default('http://127.0.0.1:8545'))
      .addOption(new Option('--addresses <file>', 'the deployment’s addresses (written by `veritask devnet`)').default('.devnet/addresses.json'))
      .option('--json', 'print one JSON object', false)
  const print = (flags: ChainFlags, json: unknown, text: string) => context.stdout(flags.json ? JSON.stringify(json, jsonBigint) : text)

  gov.addCommand(
    withChain(new Command('params').description('Print every governed parameter: value in effect, scheduled change, bounds.'))
      .addOption(new Option('--epoch <n>', 'the values an opened epoch uses instead').argParser(bigintArgument))
      .action(async (flags: ChainFlags & { epoch?: bigint }) => {
        const { gov: client, publicClient, addresses } = await connect(flags, context)
        const versions = await client.versions()
        const { readNetworkParameters } = await import('../../chain/viem/readParameters.ts')
        const epoch = flags.epoch === undefined ? undefined : await readNetworkParameters(publicClient, { settlement: addresses.settlement, epoch: flags.epoch })
        const values = epoch?.values ?? (await client.valuesAt(versions.active))
        const scheduled = versions.latest === versions.active ? values : await client.valuesAt(versions.latest)
        const [bounds, settings] = await Promise.all([client.bounds(), client.settings()])
        const rows = networkParameters.map((p) => ({
          name: p.name,
          id: p.id,
          value: values[p.name],
          ...(epoch === undefined && scheduled[p.name] !== values[p.name] ? { scheduled: scheduled[p.name] } : {}),
          min: bounds[p.name].min,
          max: bounds[p.name].max,
          unit: p.unit,
        }))
        const json = {
          ...(epoch === undefined ? { activeVersion: versions.active, latestVersion: versions.latest } : { epoch: epoch.epoch, version: epoch.version }),
          parameters: rows,
          governance: settings,
        }
        const width = Math.max(...rows.map((r) => r.name.length))
        const text = [
          epoch === undefined
            ? `network parameters: version ${versions.active} in effect${versions.latest === versions.active ? '' : `, version ${versions.latest} scheduled for the next epoch`}`
            : `network parameters of epoch ${epoch.epoch} (version ${epoch.version})`,
          '',
          ...rows.map(
            (r) =>
              `  ${r.name.padEnd(width)}  ${String(r.value).padStart(22)}${'scheduled' in r ? ` → ${r.scheduled}` : ''}   [${r.min} … ${r.max}] ${r.unit}`,
          ),
          '',
          `governance: proposals need ${settings.proposalThreshold} stake; voting starts ${settings.votingDelayBlocks} blocks after, lasts ${settings.votingPeriodBlocks} blocks;`,
          `  quorum ${settings.quorumPercent}% of the snapshot stake (for + abstain), for > against; timelock ${settings.timelockDelaySeconds} s`,
        ].join('\n')
        print(flags, json, text)
      }),
  )

  gov.addCommand(
    withChain(new Command('propose').description('Propose new values for governed parameters (one proposal, applied together).'))
      .addOption(new Option('--set <name=value...>', 'a parameter and its new value (repeatable); integers, 150e18 allowed').makeOptionMandatory())
      .addOption(new Option('--description <text>', 'what and why (default: the changes)'))
      .action(async (flags: ChainFlags & { set: string[]; description?: string }) => {
        const changes = parseChanges(flags.set)
        const description = flags.description ?? `Set ${Object.entries(changes).map(([k, v]) => `${k}=${v}`).join(', ')}`
        const { gov: client, wallet } = await connect(flags, context)
        const signer = wallet()
        await client.checkParameterChange(changes)
        const { proposalId, hash } = await client.propose(signer, changes, description)
        const info = await client.proposal(proposalId)
        print(
          flags,
          { proposalId, transaction: hash, changes, description, snapshot: info.snapshot, deadline: info.deadline },
          `proposed ${proposalId}\n  ${description}\n  voting from block ${info.snapshot + 1n} to ${info.deadline}`,
        )
      }),
  )

  gov.addCommand(
    withChain(new Command('vote').description('Vote on a proposal with your stake at its snapshot.'))
      .argument('<proposalId>', 'the proposal id', bigintArgument)
      .argument('<support>', 'for, against or abstain', (raw: string): VoteSupport => {
        if (!(raw in voteSupport)) throw new InvalidArgumentError('expected for, against or abstain.')
        return raw as VoteSupport
      })
      .action(async (id: bigint, support: VoteSupport, flags: ChainFlags) => {
        const { gov: client, wallet } = await connect(flags, context)
        const signer = wallet()
        const { hash } = await client.castVote(signer, id, support)
        const info = await client.proposal(id)
        print(flags, { proposalId: id, voter: signer.account.address, support, transaction: hash, votes: info.votes }, `voted ${support} on ${id}\n${formatVotes(info)}`)
      }),
  )

  for (const [name, description] of [
    ['queue', 'Queue a succeeded proposal in the timelock.'],
    ['execute', 'Execute a queued proposal once the timelock delay has passed (anyone may).'],
  ] as const) {
    gov.addCommand(
      withChain(new Command(name).description(description))
        .argument('<proposalId>', 'the proposal id', bigintArgument)
        .action(async (id: bigint, flags: ChainFlags) => {
          const { gov: client, wallet } = await connect(flags, context)
          const { hash } = await client[name](wallet(), id)
          const info = await client.proposal(id)
          print(flags, { proposalId: id, state: info.state, eta: info.eta, transaction: hash }, `${name === 'queue' ? 'queued' : 'executed'} ${id}\n${formatProposal(info)}`)
        }),
    )
  }

  gov.addCommand(
    withChain(new Command('status').description('Show one proposal, or list them all.'))
      .argument('[proposalId]', 'the proposal id (default: all)', bigintArgument)
      .action(async (id: bigint | undefined, flags: ChainFlags) => {
        const { gov: client } = await connect(flags, context)
        const ids = id === undefined ? await client.proposalIds() : [id]
        const proposals = await Promise.all(ids.map((i) => client.proposal(i)))
        const text = proposals.length === 0 ? 'no proposals' : proposals.map(formatProposal).join('\n\n')
        print(flags, id === undefined ? { proposals } : proposals[0], text)
      }),
  )

  for (const command of gov.commands) command.exitOverride().configureOutput(gov.configureOutput())
  return gov
}

function bigintArgument(raw: string): bigint {
  if (!/^\d+$/.test(raw.trim())) throw new InvalidArgumentError(`expected a non-negative integer, got "${raw}".`)
  return BigInt(raw.trim())
}

/** Parses `name=value` pairs; values are integers, with an optional exponent (`150e18`). */
export function parseChanges(pairs: readonly string[]): ParameterChange {
  const changes: Partial<Record<NetworkParameterName, bigint | number>> = {}
  for (const pair of pairs) {
    const match = /^([A-Za-z]+)=(\d+)(?:e(\d+))?$/.exec(pair.trim())
    const parameter = match === null ? undefined : findNetworkParameter(match[1]!)
    if (match === null || parameter === undefined) {
      throw new UsageError('USAGE_INVALID_OPTION', `--set ${pair}: expected name=value with a governed parameter's name.`, {
        hint: `Names: ${networkParameters.map((p) => p.name).join(', ')}.`,
      })
    }
    if (parameter.name in changes) {
      throw new UsageError('USAGE_INVALID_OPTION', `--set names ${parameter.name} twice.`, { hint: 'Give each parameter once.' })
    }
    const value = BigInt(match[2]!) * 10n ** BigInt(match[3] ?? '0')
    if (!parameter.bigint && value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new UsageError('USAGE_INVALID_OPTION', `--set ${pair}: ${value} is far above any bound of ${parameter.name}.`, {
        hint: 'See the bounds with `veritask gov params`.',
      })
    }
    changes[parameter.name] = parameter.bigint ? value : Number(value)
  }
  return changes as ParameterChange
}

function formatVotes(p: ProposalInfo): string {
  return `  votes     for ${p.votes.for}, against ${p.votes.against}, abstain ${p.votes.abstain} (quorum ${p.quorum})`
}

function formatProposal(p: ProposalInfo): string {
  const changes = p.changes === null ? '(not a parameter change)' : Object.entries(p.changes).map(([k, v]) => `${k}=${v}`).join(', ')
  return [
    `proposal ${p.id}`,
    `  state     ${p.state}`,
    `  changes   ${changes}`,
    `  proposer  ${p.proposer}`,
    `  voting    blocks ${p.snapshot + 1n} to ${p.deadline}`,
    formatVotes(p),
    ...(p.eta > 0n ? [`  eta       ${new Date(Number(p.eta) * 1000).toISOString()} (executable from then)`] : []),
  ].join('\n')
}

/** JSON.stringify replacer: bigints as decimal strings. */
function jsonBigint(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
