import { randomBytes } from 'node:crypto';
import type {
  CreateTaskOptions,
  TaskStore,
} from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { Result, Task } from '@modelcontextprotocol/sdk/types.js';
import type { Redis } from 'ioredis';

/**
 * MCP tasks (long tool calls the client polls) kept in Redis, so any bridge instance can answer
 * `tasks/get` and `tasks/result` for a task another instance runs. Over stateless HTTP the SDK
 * passes no transport session, so each store is bound to the verified user instead: a user
 * sees and cancels only their own tasks. Task ids are 128-bit random.
 */

const defaultTtlMs = 60 * 60 * 1000;
const terminal = new Set<Task['status']>(['completed', 'failed', 'cancelled']);

export interface BridgeTaskStore extends TaskStore {
  /** Called when the client cancels one of this user's tasks (tasks/cancel). */
  onCancel?: (taskId: string) => void;
}

/** A task store over Redis for one user (`owner`). */
export function createRedisTaskStore(options: {
  redis: Redis;
  owner: string;
  keyPrefix: string;
  onCancel?: (taskId: string) => void;
}): BridgeTaskStore {
  const { redis, owner } = options;
  const taskKey = (id: string) => `${options.keyPrefix}task:${id}`;
  const listKey = `${options.keyPrefix}tasks:${owner}`;

  async function load(taskId: string): Promise<{ task: Task; result?: Result } | undefined> {
    const [storedOwner, task, result] = await redis.hmget(taskKey(taskId), 'owner', 'task', 'result');
    if (!task || storedOwner !== owner) return undefined;
    return { task: JSON.parse(task) as Task, ...(result ? { result: JSON.parse(result) as Result } : {}) };
  }

  async function save(task: Task, result?: Result): Promise<void> {
    const ttl = task.ttl ?? defaultTtlMs;
    const fields: Record<string, string> = { owner, task: JSON.stringify(task) };
    if (result) fields.result = JSON.stringify(result);
    await redis.multi().hset(taskKey(task.taskId), fields).pexpire(taskKey(task.taskId), ttl).exec();
  }

  async function mustLoad(taskId: string) {
    const stored = await load(taskId);
    if (!stored) throw new Error(`Task with ID ${taskId} not found`);
    return stored;
  }

  return {
    ...(options.onCancel ? { onCancel: options.onCancel } : {}),
    async createTask(params: CreateTaskOptions) {
      const now = new Date().toISOString();
      const task: Task = {
        taskId: randomBytes(16).toString('hex'),
        status: 'working',
        ttl: params.ttl ?? defaultTtlMs,
        createdAt: now,
        lastUpdatedAt: now,
        pollInterval: params.pollInterval ?? 500,
      };
      await save(task);
      await redis
        .multi()
        .zadd(listKey, Date.now(), task.taskId)
        .pexpire(listKey, defaultTtlMs * 24)
        .exec();
      return task;
    },
    async getTask(taskId) {
      return (await load(taskId))?.task ?? null;
    },
    async storeTaskResult(taskId, status, result) {
      const { task } = await mustLoad(taskId);
      if (terminal.has(task.status)) throw new Error(`Task ${taskId} is already ${task.status}`);
      await save({ ...task, status, lastUpdatedAt: new Date().toISOString() }, result);
    },
    async getTaskResult(taskId) {
      const { result } = await mustLoad(taskId);
      if (!result) throw new Error(`Task ${taskId} has no result stored`);
      return result;
    },
    async updateTaskStatus(taskId, status, statusMessage) {
      const { task, result } = await mustLoad(taskId);
      if (terminal.has(task.status)) throw new Error(`Task ${taskId} is already ${task.status}`);
      const next: Task = {
        ...task,
        status,
        lastUpdatedAt: new Date().toISOString(),
        ...(statusMessage ? { statusMessage } : {}),
      };
      await save(next, result);
      if (status === 'cancelled') options.onCancel?.(taskId);
    },
    async listTasks(cursor) {
      const pageSize = 10;
      const ids = await redis.zrange(listKey, '0', '-1');
      const start = cursor ? ids.indexOf(cursor) + 1 : 0;
      if (cursor && start === 0) throw new Error(`Invalid cursor: ${cursor}`);
      const tasks: Task[] = [];
      let index = start;
      for (; index < ids.length && tasks.length < pageSize; index++) {
        const stored = await load(ids[index] as string);
        if (stored) tasks.push(stored.task);
      }
      return { tasks, ...(index < ids.length ? { nextCursor: ids[index - 1] as string } : {}) };
    },
  };
}
