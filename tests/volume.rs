//! Nothing is lost in the default (`block`) mode under load from many threads.

use logged_model::{Logged, LoggerBuilder, Model};
use logged_model_test_support::Captured;
use logged_model_test_support::models::{Application, CreditModel};
use logged_model_test_support::on_both_drains;
use std::collections::HashMap;
use std::sync::Arc;

on_both_drains! {
    const THREADS: usize = 8;
    const PREDICTIONS_PER_THREAD: usize = 12_500;

    #[test]
    fn a_hundred_thousand_predictions_from_eight_threads_give_exactly_two_hundred_thousand_lines() {
        // A small channel, so that the callers really wait on the writer.
        let captured = Captured::with(LoggerBuilder::new().drain(DRAIN).channel_size(64).profile_interval(None));
        let model = Arc::new(Logged::new(CreditModel, &captured.logger).expect("no key collides"));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let model = Arc::clone(&model);
                std::thread::spawn(move || {
                    let application = Application::typical();
                    for _ in 0..PREDICTIONS_PER_THREAD {
                        model.predict(&application).expect("predicts");
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no thread panicked");
        }
        drop(model);
        let output = captured.output.clone();
        let stats_before_drop = captured.guard.stats();
        let records = captured.finish();

        assert_eq!(stats_before_drop.dropped, 0);
        assert_eq!(output.lines().len(), THREADS * PREDICTIONS_PER_THREAD * 2);
        assert_eq!(
            records.len(),
            THREADS * PREDICTIONS_PER_THREAD * 2,
            "every line is valid JSON"
        );
        let mut per_prediction: HashMap<&str, usize> = HashMap::new();
        for record in &records {
            let id = record["prediction_id"]
                .as_str()
                .expect("every record has a prediction id");
            *per_prediction.entry(id).or_default() += 1;
        }
        assert_eq!(per_prediction.len(), THREADS * PREDICTIONS_PER_THREAD);
        assert!(
            per_prediction.values().all(|&count| count == 2),
            "each prediction_id exactly twice"
        );
    }
}
