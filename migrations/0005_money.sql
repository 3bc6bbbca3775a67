-- Money you can trust (issue 12): what each call really reported, what the provider
-- charged, and an upper bound when the client could not see everything.
--   raw_usage_json       the provider's usage object as received (for repricing and audits)
--   provider_cost_usd    the cost the provider reported (OpenRouter usage.cost), if any
--   cost_source          'table' (priced from the price table) or 'provider' (its own figure)
--   cost_upper_usd       set when the call was cancelled or cut after reaching the model, or
--                        ended without a usage report: it cost at least cost_total_usd and
--                        at most this (budgets are charged this)
--   output_tokens_upper  the output the call may have produced (input + max_tokens bound)
-- The cost macros now say "unknown" honestly: cost_usd is NULL for a group whose calls are
-- all unpriced (never $0.00), and cost_upper_usd sums the upper bounds where any exist.

ALTER TABLE llm_calls ADD COLUMN raw_usage_json JSON;
ALTER TABLE llm_calls ADD COLUMN provider_cost_usd DECIMAL(18, 9);
ALTER TABLE llm_calls ADD COLUMN cost_source VARCHAR;
ALTER TABLE llm_calls ADD COLUMN cost_upper_usd DECIMAL(18, 9);
ALTER TABLE llm_calls ADD COLUMN output_tokens_upper BIGINT;
ALTER TABLE operations ADD COLUMN cost_upper_usd DECIMAL(18, 9);

DROP VIEW IF EXISTS v_cost_by_model;
DROP VIEW IF EXISTS v_cost_by_role;
DROP VIEW IF EXISTS v_cost_by_day;
DROP VIEW IF EXISTS v_cost_by_skill;
DROP VIEW IF EXISTS v_cost_by_operation;
DROP VIEW IF EXISTS v_cost_by_task;

CREATE OR REPLACE MACRO mira_costs_by_model(since := NULL) AS TABLE
SELECT provider, model,
       count(*) AS calls,
       coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(cached_input_tokens)::DOUBLE / nullif(sum(input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(cost_output_usd), 0) AS cost_output_usd,
       CASE WHEN count(*) > 0 AND count(*) FILTER (WHERE coalesce(priced, true)) = 0 THEN NULL
            ELSE coalesce(sum(cost_total_usd), 0) END AS cost_usd,
       CASE WHEN count(cost_upper_usd) > 0
            THEN sum(coalesce(cost_upper_usd, cost_total_usd)) END AS cost_upper_usd,
       coalesce(sum(orchestrator_equivalent_usd - cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(priced, true)) AS unpriced_calls
FROM llm_calls
WHERE since IS NULL OR started_at >= since
GROUP BY provider, model
ORDER BY cost_usd DESC, provider, model;

CREATE OR REPLACE MACRO mira_costs_by_role(since := NULL) AS TABLE
SELECT role,
       count(*) AS calls,
       coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(cached_input_tokens)::DOUBLE / nullif(sum(input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(cost_output_usd), 0) AS cost_output_usd,
       CASE WHEN count(*) > 0 AND count(*) FILTER (WHERE coalesce(priced, true)) = 0 THEN NULL
            ELSE coalesce(sum(cost_total_usd), 0) END AS cost_usd,
       CASE WHEN count(cost_upper_usd) > 0
            THEN sum(coalesce(cost_upper_usd, cost_total_usd)) END AS cost_upper_usd,
       coalesce(sum(orchestrator_equivalent_usd - cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(priced, true)) AS unpriced_calls
FROM llm_calls
WHERE since IS NULL OR started_at >= since
GROUP BY role
ORDER BY cost_usd DESC, role;

CREATE OR REPLACE MACRO mira_costs_by_day(since := NULL) AS TABLE
WITH buckets AS (
    SELECT epoch_us(started_at) // 900000000 AS bucket,
           count(*) AS calls,
           sum(input_tokens) AS input_tokens,
           sum(cached_input_tokens) AS cached_input_tokens,
           sum(output_tokens) AS output_tokens,
           sum(reasoning_tokens) AS reasoning_tokens,
           sum(cost_input_usd) AS cost_input_usd,
           sum(cost_cached_input_usd) AS cost_cached_input_usd,
           sum(cost_output_usd) AS cost_output_usd,
           sum(cost_total_usd) AS cost_usd,
           count(*) FILTER (WHERE coalesce(priced, true)) AS priced_calls,
           count(cost_upper_usd) AS bounded_calls,
           sum(coalesce(cost_upper_usd, cost_total_usd)) AS cost_most_usd,
           sum(orchestrator_equivalent_usd - cost_total_usd) AS routing_savings_usd,
           count(*) FILTER (WHERE NOT coalesce(priced, true)) AS unpriced_calls
    FROM llm_calls
    WHERE since IS NULL OR started_at >= since
    GROUP BY bucket
)
SELECT CAST(make_timestamptz(bucket * 900000000) AS DATE) AS day,
       sum(calls)::BIGINT AS calls,
       coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(cached_input_tokens)::DOUBLE / nullif(sum(input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(cost_output_usd), 0) AS cost_output_usd,
       CASE WHEN sum(priced_calls) = 0 THEN NULL ELSE coalesce(sum(cost_usd), 0) END AS cost_usd,
       CASE WHEN sum(bounded_calls) > 0 THEN sum(cost_most_usd) END AS cost_upper_usd,
       coalesce(sum(routing_savings_usd), 0) AS routing_savings_usd,
       sum(unpriced_calls)::BIGINT AS unpriced_calls
FROM buckets
GROUP BY day
ORDER BY day;

CREATE OR REPLACE MACRO mira_costs_by_skill(since := NULL) AS TABLE
SELECT CASE WHEN c.purpose LIKE 'skill:%' THEN substr(c.purpose, 7) ELSE o.skill END AS skill,
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

CREATE OR REPLACE MACRO mira_costs_by_operation(since := NULL) AS TABLE
SELECT o.id AS operation_id, o.started_at, o.status, o.mode, o.skill, o.request,
       count(c.id) AS calls,
       coalesce(sum(c.input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(c.cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(c.output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(c.reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(c.cached_input_tokens)::DOUBLE / nullif(sum(c.input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(c.cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(c.cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(c.cost_output_usd), 0) AS cost_output_usd,
       CASE WHEN count(c.id) > 0 AND count(c.id) FILTER (WHERE coalesce(c.priced, true)) = 0 THEN NULL
            ELSE coalesce(sum(c.cost_total_usd), 0) END AS cost_usd,
       CASE WHEN count(c.cost_upper_usd) > 0
            THEN sum(coalesce(c.cost_upper_usd, c.cost_total_usd)) END AS cost_upper_usd,
       coalesce(sum(c.orchestrator_equivalent_usd - c.cost_total_usd), 0) AS routing_savings_usd,
       count(c.id) FILTER (WHERE NOT coalesce(c.priced, true)) AS unpriced_calls,
       o.cost_usd AS reported_cost_usd,
       o.routing_savings_usd AS reported_routing_savings_usd
FROM operations o LEFT JOIN llm_calls c ON c.operation_id = o.id
WHERE since IS NULL OR o.started_at >= since
GROUP BY ALL
ORDER BY o.started_at DESC NULLS LAST, o.id;

CREATE OR REPLACE MACRO mira_costs_by_task(since := NULL) AS TABLE
SELECT c.operation_id, c.task_id, t.sequence, t.description, t.status,
       count(*) AS calls,
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
FROM llm_calls c LEFT JOIN operation_tasks t ON t.id = c.task_id
WHERE since IS NULL OR c.started_at >= since
GROUP BY ALL
ORDER BY c.operation_id, t.sequence NULLS FIRST;

CREATE VIEW v_cost_by_model AS FROM mira_costs_by_model();
CREATE VIEW v_cost_by_role AS FROM mira_costs_by_role();
CREATE VIEW v_cost_by_day AS FROM mira_costs_by_day();
CREATE VIEW v_cost_by_skill AS FROM mira_costs_by_skill();
CREATE VIEW v_cost_by_operation AS FROM mira_costs_by_operation();
CREATE VIEW v_cost_by_task AS FROM mira_costs_by_task();
