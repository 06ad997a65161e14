//! The model's input: a credit application with the data set's 20
//! attributes, typed, and checked against the ranges the model was trained on.

use crate::categorical::categorical;
use logged_model::Sensitive;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

categorical! {
    /// Status of the applicant's existing checking account.
    pub enum CheckingAccount {
        /// Overdrawn.
        BelowZero => "... < 0 DM",
        /// Up to 200 DM.
        BelowTwoHundred => "0 <= ... < 200 DM",
        /// 200 DM or more, or a salary paid in for at least a year.
        AtLeastTwoHundred => "... >= 200 DM / salary assignments for at least 1 year",
        /// No checking account.
        None => "no checking account",
    }
}

categorical! {
    /// How the applicant has repaid credits before.
    pub enum CreditHistory {
        /// No credits taken, or all paid back duly.
        NoneOrAllPaid => "no credits taken/ all credits paid back duly",
        /// All credits at this bank paid back duly.
        AllPaidHere => "all credits at this bank paid back duly",
        /// Existing credits paid back duly so far.
        ExistingPaid => "existing credits paid back duly till now",
        /// Delays in paying off in the past.
        Delayed => "delay in paying off in the past",
        /// A critical account, or credits at other banks.
        Critical => "critical account/ other credits existing (not at this bank)",
    }
}

categorical! {
    /// What the credit is for.
    pub enum Purpose {
        /// A new car.
        CarNew => "car (new)",
        /// A used car.
        CarUsed => "car (used)",
        /// Furniture or equipment.
        Furniture => "furniture/equipment",
        /// A radio or television.
        RadioTelevision => "radio/television",
        /// Domestic appliances.
        DomesticAppliances => "domestic appliances",
        /// Repairs.
        Repairs => "repairs",
        /// Education.
        Education => "education",
        /// Retraining.
        Retraining => "retraining",
        /// Business.
        Business => "business",
        /// Anything else.
        Others => "others",
    }
}

categorical! {
    /// Savings accounts and bonds.
    pub enum Savings {
        /// Under 100 DM.
        BelowHundred => "... < 100 DM",
        /// 100 to 500 DM.
        BelowFiveHundred => "100 <= ... < 500 DM",
        /// 500 to 1000 DM.
        BelowThousand => "500 <= ... < 1000 DM",
        /// 1000 DM or more.
        AtLeastThousand => "... >= 1000 DM",
        /// Unknown, or no savings account.
        UnknownOrNone => "unknown/ no savings account",
    }
}

categorical! {
    /// How long the applicant has been in present employment.
    pub enum Employment {
        /// Unemployed.
        Unemployed => "unemployed",
        /// Under a year.
        BelowOneYear => "... < 1 year",
        /// One to four years.
        BelowFourYears => "1 <= ... < 4 years",
        /// Four to seven years.
        BelowSevenYears => "4 <= ... < 7 years",
        /// Seven years or more.
        AtLeastSevenYears => "... >= 7 years",
    }
}

categorical! {
    /// Personal status and sex, as the data set records them.
    pub enum PersonalStatus {
        /// Male, divorced or separated.
        MaleDivorced => "male : divorced/separated",
        /// Female, divorced, separated or married.
        FemaleDivorcedOrMarried => "female : divorced/separated/married",
        /// Male, single.
        MaleSingle => "male : single",
        /// Male, married or widowed.
        MaleMarried => "male : married/widowed",
    }
}

categorical! {
    /// Other debtors or guarantors.
    pub enum OtherDebtors {
        /// None.
        None => "none",
        /// A co-applicant.
        CoApplicant => "co-applicant",
        /// A guarantor.
        Guarantor => "guarantor",
    }
}

categorical! {
    /// The applicant's most valuable property.
    pub enum Property {
        /// Real estate.
        RealEstate => "real estate",
        /// A building society savings agreement or life insurance.
        SavingsAgreement => "building society savings agreement/ life insurance",
        /// A car or other property.
        CarOrOther => "car or other, not in attribute Savings account/bonds",
        /// Unknown, or no property.
        UnknownOrNone => "unknown / no property",
    }
}

categorical! {
    /// Other installment plans.
    pub enum InstallmentPlans {
        /// At a bank.
        Bank => "bank",
        /// At stores.
        Stores => "stores",
        /// None.
        None => "none",
    }
}

categorical! {
    /// Housing.
    pub enum Housing {
        /// Rents.
        Rent => "rent",
        /// Owns.
        Own => "own",
        /// Lives for free.
        ForFree => "for free",
    }
}

categorical! {
    /// The applicant's job.
    pub enum Job {
        /// Unemployed or unskilled, non-resident.
        UnskilledNonResident => "unemployed/ unskilled - non-resident",
        /// Unskilled, resident.
        UnskilledResident => "unskilled - resident",
        /// A skilled employee or official.
        Skilled => "skilled employee / official",
        /// Management, self-employed, highly qualified employee or officer.
        Management => "management/ self-employed/ highly qualified employee/ officer",
    }
}

categorical! {
    /// Whether a telephone is registered in the applicant's name.
    pub enum Telephone {
        /// No telephone.
        None => "none",
        /// Registered in the applicant's name.
        Registered => "yes, registered under the customers name",
    }
}

categorical! {
    /// Whether the applicant is a foreign worker.
    pub enum ForeignWorker {
        /// A foreign worker.
        Yes => "yes",
        /// Not a foreign worker.
        No => "no",
    }
}

/// A credit application: the 20 attributes of the German Credit data set,
/// under the data set's column names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditApplication {
    /// Status of the existing checking account.
    #[schema(inline)]
    pub status_of_existing_checking_account: CheckingAccount,
    /// Accepted values: see [`bounds::schema::duration_in_month`].
    #[schema(schema_with = bounds::schema::duration_in_month)]
    pub duration_in_month: u32,
    /// Repayment of earlier credits.
    #[schema(inline)]
    pub credit_history: CreditHistory,
    /// What the credit is for.
    #[schema(inline)]
    pub purpose: Purpose,
    /// Accepted values: see [`bounds::schema::credit_amount`].
    #[schema(schema_with = bounds::schema::credit_amount)]
    pub credit_amount: f64,
    /// Savings accounts and bonds.
    #[schema(inline)]
    pub savings_account_and_bonds: Savings,
    /// Present employment since.
    #[schema(inline)]
    pub present_employment_since: Employment,
    /// Accepted values: see [`bounds::schema::installment_rate_in_percentage_of_disposable_income`].
    #[schema(schema_with = bounds::schema::installment_rate_in_percentage_of_disposable_income)]
    pub installment_rate_in_percentage_of_disposable_income: u8,
    /// Personal status and sex.
    #[schema(inline)]
    pub personal_status_and_sex: PersonalStatus,
    /// Other debtors or guarantors.
    #[schema(inline)]
    pub other_debtors_or_guarantors: OtherDebtors,
    /// Accepted values: see [`bounds::schema::present_residence_since`].
    #[schema(schema_with = bounds::schema::present_residence_since)]
    pub present_residence_since: u8,
    /// The most valuable property.
    #[schema(inline)]
    pub property: Property,
    /// Accepted values: see [`bounds::schema::age_in_years`].
    #[schema(schema_with = bounds::schema::age_in_years)]
    pub age_in_years: u32,
    /// Other installment plans.
    #[schema(inline)]
    pub other_installment_plans: InstallmentPlans,
    /// Housing.
    #[schema(inline)]
    pub housing: Housing,
    /// Accepted values: see [`bounds::schema::number_of_existing_credits_at_this_bank`].
    #[schema(schema_with = bounds::schema::number_of_existing_credits_at_this_bank)]
    pub number_of_existing_credits_at_this_bank: u8,
    /// Job.
    #[schema(inline)]
    pub job: Job,
    /// Accepted values: see [`bounds::schema::number_of_people_being_liable_to_provide_maintenance_for`].
    #[schema(schema_with = bounds::schema::number_of_people_being_liable_to_provide_maintenance_for)]
    pub number_of_people_being_liable_to_provide_maintenance_for: u8,
    /// Telephone.
    #[schema(inline)]
    pub telephone: Telephone,
    /// Foreign worker.
    #[schema(inline)]
    pub foreign_worker: ForeignWorker,
    /// The applicant's id in the caller's systems, optional. Never logged in
    /// the clear: the prediction records carry its keyed hash, so records of
    /// one applicant can be grouped without revealing who it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "applicant-0042")]
    pub applicant_id: Option<Sensitive<String>>,
}

/// A value outside the range the model accepts.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field} must be {expected}; got {value}")]
pub struct InvalidField {
    /// The field's name.
    pub field: &'static str,
    /// What the field accepts.
    pub expected: String,
    /// The value sent.
    pub value: String,
}

impl CreditApplication {
    /// Checks every numeric field against its [`bounds`] and returns the
    /// first field that is out of them.
    pub fn validate(&self) -> Result<(), InvalidField> {
        use bounds::*;
        DURATION_IN_MONTH.check(self.duration_in_month.into())?;
        CREDIT_AMOUNT.check(self.credit_amount)?;
        INSTALLMENT_RATE.check(
            self.installment_rate_in_percentage_of_disposable_income
                .into(),
        )?;
        PRESENT_RESIDENCE_SINCE.check(self.present_residence_since.into())?;
        AGE_IN_YEARS.check(self.age_in_years.into())?;
        EXISTING_CREDITS.check(self.number_of_existing_credits_at_this_bank.into())?;
        PEOPLE_LIABLE.check(
            self.number_of_people_being_liable_to_provide_maintenance_for
                .into(),
        )
    }
}

/// The values each numeric field accepts, each written once: the same
/// constant drives the validation, its error message and the OpenAPI schema.
pub mod bounds {
    use super::InvalidField;

    /// A numeric field's accepted values and what it means.
    pub struct Bounds {
        /// The field's name.
        pub field: &'static str,
        /// What the field is, for the API documentation.
        pub doc: &'static str,
        /// The smallest value, or the bound every value must exceed.
        pub minimum: f64,
        /// Whether `minimum` itself is refused.
        pub exclusive_minimum: bool,
        /// The largest value.
        pub maximum: f64,
        /// Whether only whole numbers are accepted.
        pub integer: bool,
    }

    impl Bounds {
        /// The accepted values, in words: `from 1 to 120`.
        pub fn describe(&self) -> String {
            if self.exclusive_minimum {
                format!("above {} and at most {}", self.minimum, self.maximum)
            } else {
                format!("from {} to {}", self.minimum, self.maximum)
            }
        }

        /// Whether `value` is accepted.
        pub fn contains(&self, value: f64) -> bool {
            let above = if self.exclusive_minimum {
                value > self.minimum
            } else {
                value >= self.minimum
            };
            value.is_finite() && above && value <= self.maximum
        }

        /// `Ok` for an accepted value, else the error that says why not.
        pub fn check(&self, value: f64) -> Result<(), InvalidField> {
            if self.contains(value) {
                Ok(())
            } else {
                Err(InvalidField {
                    field: self.field,
                    expected: self.describe(),
                    value: value.to_string(),
                })
            }
        }

        /// The field's OpenAPI schema.
        pub fn schema(&self) -> utoipa::openapi::Object {
            use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
            let builder = ObjectBuilder::new()
                .schema_type(SchemaType::Type(if self.integer {
                    Type::Integer
                } else {
                    Type::Number
                }))
                .description(Some(format!("{} ({}).", self.doc, self.describe())))
                .maximum(Some(self.maximum));
            if self.exclusive_minimum {
                builder.exclusive_minimum(Some(self.minimum))
            } else {
                builder.minimum(Some(self.minimum))
            }
            .build()
        }
    }

    const fn whole(field: &'static str, doc: &'static str, minimum: f64, maximum: f64) -> Bounds {
        Bounds {
            field,
            doc,
            minimum,
            exclusive_minimum: false,
            maximum,
            integer: true,
        }
    }

    /// `duration_in_month`.
    pub const DURATION_IN_MONTH: Bounds = whole(
        "duration_in_month",
        "How long the credit runs, in months",
        1.0,
        120.0,
    );
    /// `credit_amount`.
    pub const CREDIT_AMOUNT: Bounds = Bounds {
        field: "credit_amount",
        doc: "The amount asked for, in DM",
        minimum: 0.0,
        exclusive_minimum: true,
        maximum: 1_000_000.0,
        integer: false,
    };
    /// `installment_rate_in_percentage_of_disposable_income`.
    pub const INSTALLMENT_RATE: Bounds = whole(
        "installment_rate_in_percentage_of_disposable_income",
        "Installment rate in percent of disposable income, as the data set's code",
        1.0,
        4.0,
    );
    /// `present_residence_since`.
    pub const PRESENT_RESIDENCE_SINCE: Bounds = whole(
        "present_residence_since",
        "Present residence since, as the data set's code",
        1.0,
        4.0,
    );
    /// `age_in_years`.
    pub const AGE_IN_YEARS: Bounds = whole("age_in_years", "Age in years", 18.0, 120.0);
    /// `number_of_existing_credits_at_this_bank`.
    pub const EXISTING_CREDITS: Bounds = whole(
        "number_of_existing_credits_at_this_bank",
        "Number of existing credits at this bank, as the data set's code",
        1.0,
        4.0,
    );
    /// `number_of_people_being_liable_to_provide_maintenance_for`.
    pub const PEOPLE_LIABLE: Bounds = whole(
        "number_of_people_being_liable_to_provide_maintenance_for",
        "Number of people the applicant provides maintenance for, as in the data set",
        1.0,
        2.0,
    );

    /// The schema functions `#[schema(schema_with = ...)]` names, one per field.
    pub mod schema {
        macro_rules! schemas {
            ($($field:ident: $bounds:ident),* $(,)?) => {$(
                #[doc = concat!("The schema of `", stringify!($field), "`.")]
                pub fn $field() -> utoipa::openapi::Object {
                    super::$bounds.schema()
                }
            )*};
        }
        schemas! {
            duration_in_month: DURATION_IN_MONTH,
            credit_amount: CREDIT_AMOUNT,
            installment_rate_in_percentage_of_disposable_income: INSTALLMENT_RATE,
            present_residence_since: PRESENT_RESIDENCE_SINCE,
            age_in_years: AGE_IN_YEARS,
            number_of_existing_credits_at_this_bank: EXISTING_CREDITS,
            number_of_people_being_liable_to_provide_maintenance_for: PEOPLE_LIABLE,
        }
    }
}
