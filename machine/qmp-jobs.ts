// QMP background jobs (qapi/job.json), as QEMU runs snapshot-save, snapshot-load and
// snapshot-delete: the command returns at once, the job walks created -> running ->
// waiting -> pending -> concluded with a JOB_STATUS_CHANGE event for each, its
// outcome stays in query-jobs (with "error" if it failed) until job-dismiss, which
// ends it (status null). These jobs finalise and conclude on their own, as QEMU's
// snapshot jobs do; they are not dismissed on their own.

/** A job command that cannot be done (the message is QMP's error text). */
export class JobError extends Error {}

export type JobStatus = 'created' | 'running' | 'waiting' | 'pending' | 'concluded' | 'null';

interface Job {
  id: string;
  type: string;
  status: JobStatus;
  error?: string;
}

export class Jobs {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly emit: (event: string, data: Record<string, unknown>) => void) {}

  /** Start `work` as job `id`; throws JobError if the id is taken. Returns when the job has concluded. */
  start(id: string, type: string, work: () => Promise<void>): Promise<void> {
    if (!/^[A-Za-z][\w.-]*$/.test(id)) throw new JobError(`Invalid job ID '${id}'`);
    if (this.jobs.has(id)) throw new JobError(`Job ID '${id}' already in use`);
    const job: Job = { id, type, status: 'created' };
    this.jobs.set(id, job);
    this.set(job, 'created');
    return (async () => {
      await Promise.resolve(); // the command's reply goes first
      this.set(job, 'running');
      try {
        await work();
      } catch (e) {
        job.error = (e as Error).message;
      }
      this.set(job, 'waiting');
      this.set(job, 'pending');
      this.set(job, 'concluded');
    })();
  }

  private set(job: Job, status: JobStatus): void {
    job.status = status;
    this.emit('JOB_STATUS_CHANGE', { status, id: job.id });
  }

  /** query-jobs: every job not dismissed yet. */
  query(): Record<string, unknown>[] {
    return [...this.jobs.values()].map((j) => {
      const done = j.status === 'concluded' ? 1 : 0;
      return { id: j.id, type: j.type, status: j.status, 'current-progress': done, 'total-progress': 1, ...(j.error ? { error: j.error } : {}) };
    });
  }

  /** job-dismiss: forget a concluded job. */
  dismiss(id: string): void {
    const job = this.jobs.get(id);
    if (!job) throw new JobError(`Job not found`);
    if (job.status !== 'concluded') throw new JobError(`Job '${id}' in state '${job.status}' cannot accept command verb 'dismiss'`);
    this.jobs.delete(id);
    this.set(job, 'null');
  }
}
