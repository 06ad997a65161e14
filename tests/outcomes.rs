//! Prediction ids to the caller, and outcome records joined to them, on both
//! drains.

use logged_model::correlation::{self, WithCorrelationId};
use logged_model::{
    AsyncModel, Logged, Model, ModelSettings, OutcomeLogger, PredictionId, logged_model,
};
use logged_model_test_support::{Captured, on_both_drains, with_message};

struct Applicant {
    amount: f64,
}

struct Repayment {
    repaid: bool,
    days_late: u32,
}

struct Scorer;

#[logged_model(
    input_fields = [amount],
    output_fields = [0],
    outcome = Repayment,
    outcome_fields = [repaid, days_late]
)]
impl Model for Scorer {
    type Input = Applicant;
    type Output = (f64,);
    type Error = String;
    fn qualified_name(&self) -> &str {
        "scorer"
    }
    fn version(&self) -> &str {
        "2.1"
    }
    fn predict(&self, input: &Applicant) -> Result<(f64,), String> {
        if input.amount < 0.0 {
            return Err("negative".to_owned());
        }
        Ok((input.amount / 1e4,))
    }
}

struct AsyncScorer;

#[logged_model(input_fields = [amount], outcome = Repayment, outcome_fields = [repaid])]
impl AsyncModel for AsyncScorer {
    type Input = Applicant;
    type Output = f64;
    type Error = String;
    fn qualified_name(&self) -> &str {
        "async_scorer"
    }
    fn version(&self) -> &str {
        "1"
    }
    async fn predict(&self, input: &Applicant) -> Result<f64, String> {
        Ok(input.amount)
    }
}

on_both_drains! {
    #[test]
    fn the_caller_gets_the_id_its_records_carry_and_the_outcome_refers_to_it() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(Scorer, &captured.logger).expect("wraps");
        let (id, result) = model.predict_with_id(&Applicant { amount: 2500.0 });
        assert_eq!(result, Ok((0.25,)));
        let id = id.expect("logged");
        let (failed_id, failure) = model.predict_with_id(&Applicant { amount: -1.0 });
        assert!(failure.is_err());
        let failed_id = failed_id.expect("a failure is logged under its id too");
        let outcomes = model.outcome_logger().expect("an outcome logger");
        correlation::scope("repayment-batch-7", || {
            outcomes.log(&id, &Repayment { repaid: false, days_late: 31 });
        });
        drop((model, outcomes));
        let records = captured.finish();
        let created = &with_message(&records, "Prediction created.")[0];
        assert_eq!(created["prediction_id"], id.as_str());
        let exception = &with_message(&records, "Prediction exception.")[0];
        assert_eq!(exception["prediction_id"], failed_id.as_str());
        let outcome = with_message(&records, "Prediction outcome.");
        assert_eq!(outcome.len(), 1);
        let outcome = outcome[0];
        assert_eq!(outcome["prediction_id"], id.as_str());
        assert_eq!(outcome["repaid"], false);
        assert_eq!(outcome["days_late"], 31);
        assert_eq!(outcome["correlation_id"], "repayment-batch-7");
        assert_eq!(outcome["action"], "outcome");
        assert_eq!(outcome["model_qualified_name"], "scorer");
        assert_eq!(outcome["model_version"], "2.1");
        assert_eq!(outcome["log.logger"], "scorer_logger");
        assert_eq!(outcome["log.level"], "INFO");
        assert!(outcome.get("status").is_none() && outcome.get("event.duration").is_none());
    }

    #[test]
    fn another_process_writes_an_outcome_knowing_only_the_name_version_and_id() {
        let captured = Captured::on(DRAIN);
        let id: PredictionId = "cc82106f-6111-4f3e-8e36-af6849d4a8e0".parse().expect("an id");
        let outcomes = OutcomeLogger::<Scorer>::new(&captured.logger, "scorer", "2.0").expect("no collision");
        outcomes.log(&id, &Repayment { repaid: true, days_late: 0 });
        drop(outcomes);
        let records = captured.finish();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["message"], "Prediction outcome.");
        assert_eq!(records[0]["prediction_id"], "cc82106f-6111-4f3e-8e36-af6849d4a8e0");
        assert_eq!(records[0]["model_version"], "2.0");
        assert!(records[0].get("correlation_id").is_none(), "none in scope");
    }

    #[test]
    fn a_sampled_out_prediction_has_no_id_to_report_under() {
        let captured = Captured::on(DRAIN);
        let settings = ModelSettings::new().sample_rate(0.0).expect("a rate");
        let model = Logged::with_settings(Scorer, &captured.logger, &settings).expect("wraps");
        let (id, result) = model.predict_with_id(&Applicant { amount: 1.0 });
        assert!(result.is_ok());
        assert_eq!(id, None);
        drop(model);
        assert!(captured.finish().is_empty());
    }

    #[tokio::test]
    async fn an_async_model_gives_its_id_too() {
        let captured = Captured::on(DRAIN);
        let model = Logged::new(AsyncScorer, &captured.logger).expect("wraps");
        let (id, result) = model
            .predict_async_with_id(&Applicant { amount: 3.0 })
            .with_correlation_id("async-1")
            .await;
        assert_eq!(result, Ok(3.0));
        let id = id.expect("logged");
        drop(model);
        let records = captured.finish();
        assert_eq!(records.len(), 2, "requested and created");
        assert!(records.iter().all(|r| r["prediction_id"] == id.as_str()));
        assert!(records.iter().all(|r| r["correlation_id"] == "async-1"));
    }
}

#[test]
fn prediction_ids_parse_any_case_and_refuse_anything_else() {
    let id: PredictionId = "CC82106F-6111-4F3E-8E36-AF6849D4A8E0"
        .parse()
        .expect("an id");
    assert_eq!(id.to_string(), "cc82106f-6111-4f3e-8e36-af6849d4a8e0");
    for bad in [
        "",
        "cc82106f61114f3e8e36af6849d4a8e0",
        "{cc82106f-6111-4f3e-8e36-af6849d4a8e0}",
        "x",
    ] {
        let error = bad.parse::<PredictionId>().expect_err("not an id");
        assert!(
            error.to_string().contains("is not a prediction id"),
            "{error}"
        );
    }
    let json = serde_json::to_string(&id).expect("serializes");
    assert_eq!(json, "\"cc82106f-6111-4f3e-8e36-af6849d4a8e0\"");
    assert_eq!(serde_json::from_str::<PredictionId>(&json).ok(), Some(id));
    assert_eq!(
        format!("{id:?}"),
        "PredictionId(cc82106f-6111-4f3e-8e36-af6849d4a8e0)"
    );
}
