//! The report's queries on Amazon Athena: start, poll with backoff inside a time budget,
//! page through the results. A failed or cancelled query is an error that says why.

use std::time::{Duration, Instant};

use aws_sdk_athena::Client;
use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use vigil_reports::{Error, Runner, Table};

#[derive(Clone)]
pub struct AthenaRunner {
    client: Client,
    workgroup: String,
    database: String,
    /// Results location, when the workgroup does not enforce its own.
    output_location: Option<String>,
    /// Per query, from start to the last page of results.
    pub budget: Duration,
    pub first_poll: Duration,
    pub max_poll: Duration,
}

impl AthenaRunner {
    pub fn new(client: Client, workgroup: &str, database: &str) -> Self {
        Self {
            client,
            workgroup: workgroup.to_owned(),
            database: database.to_owned(),
            output_location: None,
            budget: Duration::from_secs(300),
            first_poll: Duration::from_millis(200),
            max_poll: Duration::from_secs(5),
        }
    }

    pub fn from_sdk_config(
        config: &aws_config::SdkConfig,
        workgroup: &str,
        database: &str,
    ) -> Self {
        Self::new(Client::new(config), workgroup, database)
    }

    pub fn with_output_location(mut self, location: &str) -> Self {
        self.output_location = Some(location.to_owned());
        self
    }

    async fn execute(&self, name: &str, sql: &str) -> Result<Table, String> {
        let started = Instant::now();
        let mut request = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&self.database)
                    .build(),
            );
        if let Some(location) = &self.output_location {
            request = request.result_configuration(
                ResultConfiguration::builder()
                    .output_location(location)
                    .build(),
            );
        }
        let id = request
            .send()
            .await
            .map_err(|e| format!("starting: {}", DisplayErrorContext(e)))?
            .query_execution_id
            .ok_or("Athena returned no query execution id")?;
        tracing::info!(query = name, execution = %id, "athena query started");

        let mut wait = self.first_poll;
        loop {
            let execution = self
                .client
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| format!("polling {id}: {}", DisplayErrorContext(e)))?;
            let status = execution.query_execution().and_then(|q| q.status());
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => break,
                Some(state @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                    let reason = status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or("no reason given");
                    return Err(format!("execution {id} {}: {reason}", state.as_str()));
                }
                _ => {}
            }
            if started.elapsed() + wait > self.budget {
                // Stop it so it does not run (and bill) after we gave up.
                let _ = self
                    .client
                    .stop_query_execution()
                    .query_execution_id(&id)
                    .send()
                    .await;
                return Err(format!(
                    "execution {id} still running after {} s; stopped",
                    self.budget.as_secs()
                ));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 3 / 2).min(self.max_poll);
        }

        let mut table = Table {
            name: name.to_owned(),
            ..Table::default()
        };
        let mut token: Option<String> = None;
        let mut first_page = true;
        loop {
            let page = self
                .client
                .get_query_results()
                .query_execution_id(&id)
                .set_next_token(token.take())
                .max_results(1000)
                .send()
                .await
                .map_err(|e| format!("reading results of {id}: {}", DisplayErrorContext(e)))?;
            let Some(set) = page.result_set() else { break };
            if first_page {
                let info = set
                    .result_set_metadata()
                    .map(|m| m.column_info())
                    .unwrap_or_default();
                table.columns = info.iter().map(|c| c.name().to_owned()).collect();
                table.types = info.iter().map(|c| c.r#type().to_owned()).collect();
            }
            for (i, row) in set.rows().iter().enumerate() {
                let cells: Vec<String> = row
                    .data()
                    .iter()
                    .map(|d| d.var_char_value().unwrap_or("").to_owned())
                    .collect();
                // A SELECT's first row repeats the column names.
                if first_page && i == 0 && (table.columns.is_empty() || cells == table.columns) {
                    table.columns = cells;
                    continue;
                }
                table.rows.push(cells);
            }
            first_page = false;
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
            if started.elapsed() > self.budget {
                return Err(format!(
                    "results of {id} still paging after {} s",
                    self.budget.as_secs()
                ));
            }
        }
        tracing::info!(
            query = name,
            rows = table.rows.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "athena query done"
        );
        Ok(table)
    }
}

impl Runner for AthenaRunner {
    async fn run(&mut self, name: &str, sql: &str) -> Result<Table, Error> {
        self.execute(name, sql)
            .await
            .map_err(|message| Error::Query {
                name: name.to_owned(),
                message,
            })
    }
}
