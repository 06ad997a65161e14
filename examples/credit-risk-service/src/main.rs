use credit_risk_service::{dataset, training, MODEL_VERSION};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = dataset::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/german_credit.csv").as_path())?;
    for alpha in [0.01, 0.1, 1.0, 3.0, 10.0, 30.0] {
        for iters in [200u64, 1000] {
            let mut s = training::default_settings();
            s.l2_penalty = alpha; s.max_iterations = iters;
            let artifact = training::train(&rows, s, MODEL_VERSION)?;
            println!("alpha {alpha} iters {iters}: auc {:.4} acc {:.4} cost {:.4}", artifact.metrics.roc_auc, artifact.metrics.accuracy, artifact.metrics.mean_cost);
        }
    }
    Ok(())
}
