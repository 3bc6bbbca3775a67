-- Orchestration that keeps its promises (issue 14).
--   llm_calls.reasoning_effort     now the level SENT to the model (NULL: none sent)
--   llm_calls.reasoning_requested  the word asked for (-r deep, Mira.reasoning_planning)
--   llm_calls.skill                the skill a call worked for, nested delegations included
--   operations.skill               every skill the operation used, comma-separated
--   operations.tasks_planned       tasks in the plan as it was accepted (after repairs)
--   operation_tasks.depends_on     earlier task numbers this task waits for (JSON list)
--   operation_tasks.planned        false for a task added while the plan ran
-- mira_costs_by_skill attributes a call by its own skill first; v_plan_quality says how
-- each plan fared.

ALTER TABLE llm_calls ADD COLUMN reasoning_requested VARCHAR;
ALTER TABLE llm_calls ADD COLUMN skill VARCHAR;
ALTER TABLE operations ADD COLUMN tasks_planned INTEGER;
ALTER TABLE operation_tasks ADD COLUMN depends_on JSON;
ALTER TABLE operation_tasks ADD COLUMN planned BOOLEAN;

DROP VIEW IF EXISTS v_cost_by_skill;

CREATE OR REPLACE MACRO mira_costs_by_skill(since := NULL) AS TABLE
SELECT CASE WHEN c.skill IS NOT NULL THEN c.skill
            WHEN c.purpose LIKE 'skill:%' THEN substr(c.purpose, 7)
            WHEN o.mode = 'skill' THEN o.skill END AS skill,
       count(*) AS calls,
       count(DISTINCT c.operation_id) AS operations,
       coalesce(sum(c.input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(c.cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(c.output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(c.reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(c.cached_input_tokens)::DOUBLE / nullif(sum(c.input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(c.cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(c.cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(c.cost_output_usd), 0) AS cost_output_usd,
       CASE WHEN count(*) > 0 AND count(*) FILTER (WHERE coalesce(c.priced, true)) = 0 THEN NULL
            ELSE coalesce(sum(c.cost_total_usd), 0) END AS cost_usd,
       CASE WHEN count(c.cost_upper_usd) > 0
            THEN sum(coalesce(c.cost_upper_usd, c.cost_total_usd)) END AS cost_upper_usd,
       coalesce(sum(c.orchestrator_equivalent_usd - c.cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(c.priced, true)) AS unpriced_calls
FROM llm_calls c LEFT JOIN operations o ON o.id = c.operation_id
WHERE since IS NULL OR c.started_at >= since
GROUP BY 1
ORDER BY cost_usd DESC, skill NULLS LAST;

CREATE VIEW v_cost_by_skill AS FROM mira_costs_by_skill();

-- One row per planned operation: how many tasks the plan had, how they ended, how many
-- were added or dropped while it ran, and the tokens spent per task.
CREATE OR REPLACE MACRO mira_plan_quality(since := NULL) AS TABLE
WITH task_counts AS (
    SELECT operation_id,
           count(*) AS tasks_total,
           count(*) FILTER (WHERE status = 'completed') AS tasks_completed,
           count(*) FILTER (WHERE status = 'failed' AND started_at IS NOT NULL) AS tasks_failed,
           count(*) FILTER (WHERE NOT coalesce(planned, true)) AS tasks_added,
           -- closed without ever starting: skipped, not reached, or stopped by the run
           count(*) FILTER (WHERE status <> 'completed' AND started_at IS NULL) AS tasks_dropped
    FROM operation_tasks
    GROUP BY operation_id
),
task_tokens AS (
    SELECT operation_id,
           sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))::BIGINT AS task_tokens,
           count(DISTINCT task_id) AS tasks_with_calls
    FROM llm_calls
    WHERE task_id IS NOT NULL
    GROUP BY operation_id
)
SELECT o.id AS operation_id, o.started_at, o.status, o.mode, o.plan_source,
       coalesce(o.tasks_planned, t.tasks_total - t.tasks_added)::BIGINT AS tasks_planned,
       t.tasks_completed::BIGINT AS tasks_completed,
       t.tasks_failed::BIGINT AS tasks_failed,
       t.tasks_added::BIGINT AS tasks_added,
       t.tasks_dropped::BIGINT AS tasks_dropped,
       coalesce(k.task_tokens, 0)::BIGINT AS task_tokens,
       k.task_tokens::DOUBLE / nullif(t.tasks_total, 0) AS tokens_per_task,
       t.tasks_completed::DOUBLE / nullif(t.tasks_total, 0) AS completion_ratio,
       o.request
FROM operations o
JOIN task_counts t ON t.operation_id = o.id
LEFT JOIN task_tokens k ON k.operation_id = o.id
WHERE since IS NULL OR o.started_at >= since
ORDER BY o.started_at;

CREATE VIEW v_plan_quality AS FROM mira_plan_quality();
