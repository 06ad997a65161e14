//! Turns an application into the model's feature vector: numeric attributes
//! standardized with the training split's mean and standard deviation, and
//! categorical attributes one-hot encoded.

use crate::application::CreditApplication;
use crate::categorical::Categorical;
use serde::{Deserialize, Serialize};

/// Mean and standard deviation of one numeric attribute in the training rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardization {
    /// The attribute.
    pub name: String,
    /// Its mean.
    pub mean: f64,
    /// Its standard deviation (1 when the attribute is constant).
    pub std_dev: f64,
}

/// The fitted encoding: what the model's columns are and how numbers are scaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    /// The name of every column of the feature vector, in order.
    pub feature_names: Vec<String>,
    /// The scaling of the numeric attributes, in the order of `numeric_values`.
    pub numeric: Vec<Standardization>,
}

const NUMERIC_NAMES: [&str; 7] = [
    "duration_in_month",
    "credit_amount",
    "installment_rate_in_percentage_of_disposable_income",
    "present_residence_since",
    "age_in_years",
    "number_of_existing_credits_at_this_bank",
    "number_of_people_being_liable_to_provide_maintenance_for",
];

fn numeric_values(application: &CreditApplication) -> [f64; 7] {
    [
        f64::from(application.duration_in_month),
        application.credit_amount,
        f64::from(application.installment_rate_in_percentage_of_disposable_income),
        f64::from(application.present_residence_since),
        f64::from(application.age_in_years),
        f64::from(application.number_of_existing_credits_at_this_bank),
        f64::from(application.number_of_people_being_liable_to_provide_maintenance_for),
    ]
}

/// Calls `visit` with each categorical attribute's name, the index of its
/// value, and all its category names, in a fixed order. Nothing is allocated.
fn visit_categoricals(
    application: &CreditApplication,
    mut visit: impl FnMut(&str, usize, &'static [&'static str]),
) {
    fn one<C: Categorical>(
        visit: &mut impl FnMut(&str, usize, &'static [&'static str]),
        name: &str,
        value: C,
    ) {
        visit(name, value.index(), C::NAMES);
    }
    let a = application;
    one(
        &mut visit,
        "status_of_existing_checking_account",
        a.status_of_existing_checking_account,
    );
    one(&mut visit, "credit_history", a.credit_history);
    one(&mut visit, "purpose", a.purpose);
    one(
        &mut visit,
        "savings_account_and_bonds",
        a.savings_account_and_bonds,
    );
    one(
        &mut visit,
        "present_employment_since",
        a.present_employment_since,
    );
    one(
        &mut visit,
        "personal_status_and_sex",
        a.personal_status_and_sex,
    );
    one(
        &mut visit,
        "other_debtors_or_guarantors",
        a.other_debtors_or_guarantors,
    );
    one(&mut visit, "property", a.property);
    one(
        &mut visit,
        "other_installment_plans",
        a.other_installment_plans,
    );
    one(&mut visit, "housing", a.housing);
    one(&mut visit, "job", a.job);
    one(&mut visit, "telephone", a.telephone);
    one(&mut visit, "foreign_worker", a.foreign_worker);
}

/// The column names this code produces, for checking a loaded encoder.
fn expected_feature_names(sample: &CreditApplication) -> Vec<String> {
    let mut names: Vec<String> = NUMERIC_NAMES
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    visit_categoricals(sample, |attribute, _, categories| {
        names.extend(
            categories
                .iter()
                .map(|category| format!("{attribute}={category}")),
        );
    });
    names
}

impl Encoder {
    /// Fits the scaling to `rows`. Returns `None` for no rows.
    pub fn fit(rows: &[&CreditApplication]) -> Option<Encoder> {
        let first = rows.first()?;
        let count = rows.len() as f64;
        let numeric = NUMERIC_NAMES
            .iter()
            .enumerate()
            .map(|(column, name)| {
                let values: Vec<f64> = rows.iter().map(|row| numeric_values(row)[column]).collect();
                let mean = values.iter().sum::<f64>() / count;
                let variance = values
                    .iter()
                    .map(|value| (value - mean).powi(2))
                    .sum::<f64>()
                    / count;
                let std_dev = if variance > 0.0 { variance.sqrt() } else { 1.0 };
                Standardization {
                    name: (*name).to_owned(),
                    mean,
                    std_dev,
                }
            })
            .collect();
        Some(Encoder {
            feature_names: expected_feature_names(first),
            numeric,
        })
    }

    /// Whether this encoder's columns are the ones this code produces, so an
    /// artifact made by other code is refused at load instead of mispredicting.
    pub fn matches_code(&self, sample: &CreditApplication) -> bool {
        self.feature_names == expected_feature_names(sample)
            && self
                .numeric
                .iter()
                .map(|n| n.name.as_str())
                .eq(NUMERIC_NAMES)
    }

    /// The feature vector of `application`.
    pub fn encode(&self, application: &CreditApplication) -> Vec<f64> {
        let mut features = Vec::with_capacity(self.feature_names.len());
        for (value, scale) in numeric_values(application).iter().zip(&self.numeric) {
            features.push((value - scale.mean) / scale.std_dev);
        }
        visit_categoricals(application, |_, index, categories| {
            features.extend(
                (0..categories.len()).map(|position| if position == index { 1.0 } else { 0.0 }),
            );
        });
        features
    }
}
