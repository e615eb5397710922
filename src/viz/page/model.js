// The page's model of a session: the packed columns of `SessionPageData`
// (src/viz/sessionPageData.ts), read by index, and what the page derives from
// them: each task's state at any step, the state summary, each step's event.

/** The place of record `row` among a sparse column's rows, or -1 when it lacks the field. */
function sparseIndex(rows, row) {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid] === row) return mid;
    if (rows[mid] < row) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The value of a packed event column at one record, or undefined (mirrors unpackRecord in src/viz/columns.ts). */
function columnValue(column, record) {
  const row = column.rows === undefined ? record : sparseIndex(column.rows, record);
  if (row < 0) return undefined;
  switch (column.kind) {
    case 'seq':
      return column.start + row * column.step;
    case 'num':
    case 'bool':
    case 'str': {
      const value = column.values[row];
      return value === null || value === undefined ? undefined : value;
    }
    case 'time': {
      const value = column.values[row];
      return value === null || value === undefined ? undefined : new Date(column.t0 + value).toISOString();
    }
    case 'dict': {
      const n = column.idx[row];
      return n === undefined || n < 0 ? undefined : column.dict[n];
    }
    case 'json': {
      const value = column.values[row];
      return value === null || value === undefined ? undefined : JSON.parse(value);
    }
    default:
      return undefined;
  }
}

/** One record rebuilt from its columns. */
export function unpackRecord(packed, row) {
  const record = {};
  for (const column of packed.columns) {
    const value = columnValue(column, row);
    if (value === undefined) continue;
    let target = record;
    for (let i = 0; i < column.path.length - 1; i++) {
      const key = column.path[i];
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      target = target[key];
    }
    target[column.path[column.path.length - 1]] = value;
  }
  return record;
}

/** The last index in the sorted array `values` whose value is at most `x`; -1 when none is. */
export function lastAtMost(values, x, length = values.length) {
  let lo = 0;
  let hi = length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A growing dictionary over one of the page's string lists. */
function interner(values) {
  const index = new Map(values.map((value, i) => [value, i]));
  return (value) => {
    let n = index.get(value);
    if (n === undefined) {
      n = values.length;
      values.push(value);
      index.set(value, n);
    }
    return n;
  };
}

/** A column sent as runs (value, count, value, count, ...) as a plain array. */
function expandRuns(runs) {
  const out = [];
  for (let i = 0; i < runs.length; i += 2) for (let n = 0; n < runs[i + 1]; n++) out.push(runs[i]);
  return out;
}

/** The model of the page's session. */
export function createModel(data) {
  const steps = data.steps;
  for (const key of Object.keys(steps)) {
    const column = steps[key];
    if (column !== null && !Array.isArray(column) && Array.isArray(column.runs)) steps[key] = expandRuns(column.runs);
  }
  const dict = data.dict;
  const liveEvents = new Map();
  const internType = interner(dict.types);
  const internState = interner(dict.states);
  const internStatus = interner(dict.statuses);
  const internAgent = interner(dict.agents);
  const internModel = interner(dict.models);
  const internLevel = interner(dict.levels);
  const taskIndex = new Map(data.tasks.ids.map((id, i) => [id, i]));
  /** Each task's changes: the steps (ascending) and the state set at each. */
  const changeSteps = data.tasks.ids.map(() => []);
  const changeStates = data.tasks.ids.map(() => []);
  const triples = data.taskStates;
  /** The same changes by step: those of step s are flatTask/flatState[stepStart[s] .. stepStart[s + 1]). */
  const flatTask = [];
  const flatState = [];
  const stepStart = [0];
  for (let i = 0; i < triples.length; i += 3) {
    const [step, task, state] = [triples[i], triples[i + 1], triples[i + 2]];
    changeSteps[task].push(step);
    changeStates[task].push(state);
    while (stepStart.length <= step) stepStart.push(flatTask.length);
    flatTask.push(task);
    flatState.push(state);
  }
  while (stepStart.length <= steps.version.length) stepStart.push(flatTask.length);
  /** The steps of each lane, in order: for the timeline's hover and the filters. */
  const laneOfStep = (step) => dict.typeKinds[steps.type[step]];
  const lanes = dict.kinds.map(() => []);
  for (let step = 0; step < steps.version.length; step++) lanes[laneOfStep(step)].push(step);
  /** The steps where a child session branched off (its fork point is this session's event, not its own). */
  const forkPoints = new Map();

  const taskOf = (id, title) => {
    let n = taskIndex.get(id);
    if (n === undefined) {
      n = data.tasks.ids.length;
      data.tasks.ids.push(id);
      data.tasks.titles.push(title);
      taskIndex.set(id, n);
      changeSteps.push([]);
      changeStates.push([]);
    }
    return n;
  };

  const model = {
    data,
    lanes,
    get length() {
      return steps.version.length;
    },
    get taskCount() {
      return data.tasks.ids.length;
    },
    laneOf: laneOfStep,
    typeOf: (step) => dict.types[steps.type[step]],
    time: (step) => data.t0 + steps.at[step],
    /** What the charts' x axis shows: 'time' (when each step happened) or 'steps' (one step a unit). */
    axis: 'time',
    /** A step's place on the x axis. */
    x: (step) => (model.axis === 'time' ? data.t0 + steps.at[step] : step),
    version: (step) => steps.version[step],
    covers: (step) => (steps.covers === undefined ? 1 : steps.covers[step]),
    taskOfStep: (step) => (steps.task[step] < 0 ? undefined : data.tasks.ids[steps.task[step]]),
    /** The step showing version `v`: the first whose version is at least `v`. */
    stepOfVersion(v) {
      const i = lastAtMost(steps.version, v - 1);
      return Math.min(i + 1, steps.version.length - 1);
    },
    /** The state index of a task at a step; -1 before it was added. */
    taskStateAt(task, step) {
      const i = lastAtMost(changeSteps[task], step);
      return i < 0 ? -1 : changeStates[task][i];
    },
    /** The step of the change before the one in force at `step` (for "how long was it in that state"). */
    taskChangeBefore(task, step) {
      const i = lastAtMost(changeSteps[task], step - 1);
      return i < 0 ? undefined : changeSteps[task][i];
    },
    /** The state of every task at a step (-1: not added yet). */
    tasksAt(step) {
      const out = new Int32Array(data.tasks.ids.length);
      for (let t = 0; t < out.length; t++) out[t] = model.taskStateAt(t, step);
      return out;
    },
    /** The tasks whose state step `step` set. */
    tasksChangedAt(step) {
      const out = [];
      for (let i = stepStart[step]; i < stepStart[step + 1]; i++) out.push(flatTask[i]);
      return out;
    },
    /**
     * Move `states` (each task's state, -1 before it was added) and `counts`
     * (tasks per state) from step `from` to step `to`, touching only the tasks
     * that changed in between; a long jump is a fresh look-up of every task.
     */
    moveTasks(states, counts, from, to) {
      const lo = Math.min(from, to);
      const hi = Math.max(from, to);
      const touched = from < 0 ? Infinity : stepStart[hi + 1] - stepStart[lo + 1];
      const set = (t, next) => {
        const prev = states[t];
        if (prev === next) return;
        if (prev >= 0) counts[prev]--;
        if (next >= 0) counts[next] = (counts[next] ?? 0) + 1;
        states[t] = next;
      };
      if (touched > states.length) {
        counts.fill(0);
        for (let t = 0; t < states.length; t++) {
          states[t] = model.taskStateAt(t, to);
          if (states[t] >= 0) counts[states[t]] = (counts[states[t]] ?? 0) + 1;
        }
      } else if (to > from) {
        for (let i = stepStart[from + 1]; i < stepStart[to + 1]; i++) set(flatTask[i], flatState[i]);
      } else {
        for (let i = stepStart[to + 1]; i < stepStart[from + 1]; i++) set(flatTask[i], model.taskStateAt(flatTask[i], to));
      }
    },
    /** The state a reader compares: session, tokens, checkpoints, and the state of the tasks named (every task when absent). */
    summary(step, only) {
      if (step < 0) return { session: { status: 'none' }, tokens: {}, checkpoints: 0, tasks: {} };
      const tasks = {};
      for (const t of only ?? data.tasks.ids.map((_, i) => i)) {
        const state = model.taskStateAt(t, step);
        if (state >= 0) tasks[data.tasks.ids[t]] = dict.states[state];
      }
      const window = steps.contextWindow[step];
      const context = steps.contextTokens[step];
      return {
        session: { status: dict.statuses[steps.status[step]], agent: dict.agents[steps.agent[step]], model: dict.models[steps.model[step]] },
        tokens: {
          contextTokens: context,
          contextWindow: window === null ? 'unknown' : window,
          percent: window === null ? 'unknown' : Math.round((context / window) * 1000) / 10,
          level: steps.level[step] < 0 ? 'unknown' : dict.levels[steps.level[step]],
          costUsd: steps.costUsd[step],
        },
        checkpoints: steps.checkpoints[step],
        tasks,
      };
    },
    /** The step's event, whole. */
    event(step) {
      return liveEvents.get(step) ?? unpackRecord(data.events, step);
    },
    /** Add a step the server sent (a `SessionStep` of src/viz/sessionSteps.ts); returns its index. */
    append(live) {
      const n = steps.version.length;
      for (const [id, title] of live.addedTasks) taskOf(id, title);
      for (const [id, state] of live.taskStates) {
        const t = taskOf(id, '');
        changeSteps[t].push(n);
        changeStates[t].push(internState(state));
        flatTask.push(t);
        flatState.push(internState(state));
      }
      stepStart.push(flatTask.length);
      steps.version.push(live.version);
      if (steps.covers !== undefined) steps.covers.push(live.covers);
      // As the page's own steps: when it happened if the event says, never before the step before.
      const at = (live.happenedAt ?? live.at) - data.t0;
      steps.at.push(n === 0 ? at : Math.max(at, steps.at[n - 1]));
      steps.type.push(internType(live.type));
      if (dict.typeKinds.length < dict.types.length) dict.typeKinds.push(live.kind);
      steps.task.push(live.taskId === undefined || live.taskId === null ? -1 : taskOf(live.taskId, ''));
      steps.contextTokens.push(live.contextTokens);
      steps.contextWindow.push(live.contextWindow ?? null);
      steps.level.push(live.level === undefined || live.level === null ? -1 : internLevel(live.level));
      steps.costUsd.push(live.costUsd);
      steps.status.push(internStatus(live.status));
      steps.agent.push(internAgent(live.agent));
      steps.model.push(internModel(live.model));
      steps.checkpoints.push(live.checkpoints);
      liveEvents.set(n, live.event);
      lanes[laneOfStep(n)].push(n);
      data.totalEvents += live.covers;
      return n;
    },
  };
  // The forks lane shows where children branched off too.
  const forkLane = dict.kinds.findIndex((kind) => kind.id === 'fork');
  for (const child of data.forks.children) {
    const step = model.stepOfVersion(child.atVersion);
    if (!forkPoints.has(step)) forkPoints.set(step, []);
    forkPoints.get(step).push(child.sessionId);
    if (forkLane >= 0 && !lanes[forkLane].includes(step)) lanes[forkLane].push(step);
  }
  if (forkLane >= 0) lanes[forkLane].sort((a, b) => a - b);
  model.forksAt = (step) => forkPoints.get(step) ?? [];
  return model;
}
