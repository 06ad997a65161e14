//! The model's input: a credit application with the data set's 20
//! attributes, typed, and checked against the ranges the model was trained on.

use crate::categorical::categorical;
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;
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
    /// How long the credit runs, in months (1 to 120).
    #[schema(minimum = 1, maximum = 120)]
    pub duration_in_month: u32,
    /// Repayment of earlier credits.
    #[schema(inline)]
    pub credit_history: CreditHistory,
    /// What the credit is for.
    #[schema(inline)]
    pub purpose: Purpose,
    /// The amount asked for, in DM (above 0, at most 1,000,000).
    #[schema(exclusive_minimum = 0, maximum = 1_000_000)]
    pub credit_amount: f64,
    /// Savings accounts and bonds.
    #[schema(inline)]
    pub savings_account_and_bonds: Savings,
    /// Present employment since.
    #[schema(inline)]
    pub present_employment_since: Employment,
    /// Installment rate in percent of disposable income, as the data set's code (1 to 4).
    #[schema(minimum = 1, maximum = 4)]
    pub installment_rate_in_percentage_of_disposable_income: u8,
    /// Personal status and sex.
    #[schema(inline)]
    pub personal_status_and_sex: PersonalStatus,
    /// Other debtors or guarantors.
    #[schema(inline)]
    pub other_debtors_or_guarantors: OtherDebtors,
    /// Present residence since, as the data set's code (1 to 4).
    #[schema(minimum = 1, maximum = 4)]
    pub present_residence_since: u8,
    /// The most valuable property.
    #[schema(inline)]
    pub property: Property,
    /// Age in years (18 to 120).
    #[schema(minimum = 18, maximum = 120)]
    pub age_in_years: u32,
    /// Other installment plans.
    #[schema(inline)]
    pub other_installment_plans: InstallmentPlans,
    /// Housing.
    #[schema(inline)]
    pub housing: Housing,
    /// Number of existing credits at this bank, as the data set's code (1 to 4).
    #[schema(minimum = 1, maximum = 4)]
    pub number_of_existing_credits_at_this_bank: u8,
    /// Job.
    #[schema(inline)]
    pub job: Job,
    /// Number of people the applicant provides maintenance for (1 or 2, as in the data set).
    #[schema(minimum = 1, maximum = 2)]
    pub number_of_people_being_liable_to_provide_maintenance_for: u8,
    /// Telephone.
    #[schema(inline)]
    pub telephone: Telephone,
    /// Foreign worker.
    #[schema(inline)]
    pub foreign_worker: ForeignWorker,
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
    /// Checks every numeric field against its range and returns the first
    /// field that is out of it.
    pub fn validate(&self) -> Result<(), InvalidField> {
        check_integer("duration_in_month", self.duration_in_month.into(), 1..=120)?;
        if !(self.credit_amount.is_finite()
            && self.credit_amount > 0.0
            && self.credit_amount <= 1_000_000.0)
        {
            return Err(InvalidField {
                field: "credit_amount",
                expected: "above 0 and at most 1000000".to_owned(),
                value: self.credit_amount.to_string(),
            });
        }
        check_integer(
            "installment_rate_in_percentage_of_disposable_income",
            self.installment_rate_in_percentage_of_disposable_income
                .into(),
            1..=4,
        )?;
        check_integer(
            "present_residence_since",
            self.present_residence_since.into(),
            1..=4,
        )?;
        check_integer("age_in_years", self.age_in_years.into(), 18..=120)?;
        check_integer(
            "number_of_existing_credits_at_this_bank",
            self.number_of_existing_credits_at_this_bank.into(),
            1..=4,
        )?;
        check_integer(
            "number_of_people_being_liable_to_provide_maintenance_for",
            self.number_of_people_being_liable_to_provide_maintenance_for
                .into(),
            1..=2,
        )
    }
}

fn check_integer(
    field: &'static str,
    value: u64,
    range: RangeInclusive<u64>,
) -> Result<(), InvalidField> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(InvalidField {
            field,
            expected: format!("from {} to {}", range.start(), range.end()),
            value: value.to_string(),
        })
    }
}
